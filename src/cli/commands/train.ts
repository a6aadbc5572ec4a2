/**
 * `llmforge train`: pretrain a model on a prepared dataset. The model comes from a preset plus `--set` overrides
 * (model fields such as nLayer=2, or any training key such as beta2=0.95), the common hyperparameters have their
 * own flags, and the resolved config is printed and saved with every checkpoint. `--resume` continues a run
 * bit-identically from its latest checkpoint; `--init-from` starts a new run from saved weights. Ctrl-C finishes
 * the current update, saves, says how to resume and exits with status 130. `--precision auto|fp32|bf16` (default
 * auto; a resume keeps the checkpoint's precision unless given) chooses the GEMM precision.
 */
import { CONFIG_FIELDS, parseConfigOverrides } from '../../models/config.ts';
import type { ModelConfig } from '../../models/model.ts';
import { PRESETS } from '../../models/presets.ts';
import { DEFAULT_TRAIN_CONFIG, isTrainKey, type TrainConfig } from '../../train/config.ts';
import { parsePrecisionSetting } from '../../train/precision.ts';
import {
  DEFAULT_PRETRAIN_OPTIONS,
  runPretraining,
  type PretrainNames,
  type PretrainOptions,
} from '../../train/pretrain-run.ts';
import { optionValues, UsageError, type OptionSpec, type Parsed } from '../args.ts';
import type { Command } from '../command.ts';
import { interruptOnSigint } from '../../train/run-dir.ts';

/** CLI flags that set a training key directly. */
const FLAGS: Record<string, { key: keyof TrainConfig; help: string; arg: string }> = {
  steps: { key: 'steps', help: 'Optimizer updates', arg: 'N' },
  batch: { key: 'batchSize', help: 'Sequences per micro-batch', arg: 'B' },
  context: { key: 'context', help: "Tokens per sequence (0: the model's blockSize)", arg: 'T' },
  lr: { key: 'lr', help: 'Peak learning rate', arg: 'LR' },
  'min-lr': { key: 'minLr', help: 'Learning rate at the end of the cosine decay', arg: 'LR' },
  warmup: { key: 'warmup', help: 'Linear warmup updates', arg: 'N' },
  schedule: { key: 'schedule', help: 'cosine or constant', arg: 'NAME' },
  'weight-decay': { key: 'weightDecay', help: 'AdamW weight decay of matrices (vectors never decay)', arg: 'W' },
  'grad-accum': { key: 'gradAccum', help: 'Micro-batches per update', arg: 'N' },
  clip: { key: 'clip', help: 'Global gradient-norm clip (0: off)', arg: 'X' },
  'eval-interval': { key: 'evalInterval', help: 'Updates between evaluations (0: only at the end)', arg: 'N' },
  'eval-iters': { key: 'evalIters', help: 'Validation batches per evaluation', arg: 'N' },
  'sample-prompt': { key: 'samplePrompt', help: "Prompt continued at each evaluation ('' disables)", arg: 'TEXT' },
  'sample-tokens': { key: 'sampleTokens', help: 'Tokens generated per sample', arg: 'N' },
  seed: { key: 'seed', help: 'Seed of initialization, data sampling and dropout', arg: 'N' },
  'checkpoint-interval': {
    key: 'checkpointInterval',
    help: 'Updates between checkpoints (0: at every evaluation)',
    arg: 'N',
  },
  'keep-every': {
    key: 'keepEvery',
    help: 'Updates between kept snapshots checkpoints/step-<N> (0: none; latest is saved there too)',
    arg: 'N',
  },
  'keep-last': { key: 'keepLast', help: 'Snapshots kept, the oldest beyond this deleted (0: all)', arg: 'K' },
  'log-interval': { key: 'logInterval', help: 'Updates between log lines', arg: 'N' },
  'peak-gflops': {
    key: 'peakGflops',
    help: 'Peak fp32 GFLOP/s of this machine, for MFU (bf16 matmuls count against 2x it)',
    arg: 'X',
  },
};

const options: Record<string, OptionSpec> = {
  data: {
    type: 'string',
    help: "Prepared dataset directory (llmforge data prepare); with --resume, defaults to the run's",
    arg: 'DIR',
  },
  model: { type: 'string', help: `Model preset: ${Object.keys(PRESETS).join(', ')}`, arg: 'PRESET' },
  set: {
    type: 'string',
    help: 'Override a model field or training key: key=value; more key=value arguments may follow',
    arg: 'KEY=VALUE',
    repeatable: true,
  },
  out: { type: 'string', help: 'Run directory (metrics.jsonl, checkpoints/latest and best)', arg: 'DIR' },
  ...Object.fromEntries(
    Object.entries(FLAGS).map(([flag, f]) => {
      const def = DEFAULT_PRETRAIN_OPTIONS.train[f.key];
      const shown = f.key === 'minLr' ? 'lr / 10' : JSON.stringify(def);
      return [
        flag,
        {
          type: typeof def === 'number' ? 'number' : 'string',
          help: `${f.help} (default: ${shown})`,
          arg: f.arg,
        } as OptionSpec,
      ];
    }),
  ),
  precision: {
    type: 'string',
    arg: 'P',
    help: "GEMM precision: auto (bf16 on CPUs with AMX-BF16/AVX512_BF16, else fp32; LLMFORGE_MATMUL decides first when set), fp32, or bf16 (bf16 operands, fp32 accumulation, fp32 weights/grads/optimizer). Default: auto; --resume: the checkpoint's",
  },
  resume: { type: 'boolean', help: 'Continue the run in --out from its latest checkpoint (bit-identical)' },
  'init-from': {
    type: 'string',
    help: 'Start a new run from the weights of a model, checkpoint or run directory',
    arg: 'DIR',
  },
  quiet: { type: 'boolean', help: 'No progress lines (the final line and metrics.jsonl remain)' },
};

/** How runPretraining's errors name this command's flags. */
const NAMES: PretrainNames = {
  where: 'train',
  preset: '--model',
  model: '--set',
  data: '--data',
  resume: '--resume',
  initFrom: '--init-from',
  trainSource: '--set',
};

/** `--set a=1` and the plain `key=value` arguments after it, split into model fields and training keys. */
function overrides(args: Parsed): { model: Partial<ModelConfig>; train: Record<string, string> } {
  const pairs: string[] = [];
  pairs.push(...optionValues(args, 'set'));
  for (const p of args.positionals) {
    if (!p.includes('='))
      throw new UsageError(
        `train: unexpected argument "${p}"; overrides are key=value after --set (see \`llmforge train --help\`)`,
      );
    pairs.push(p);
  }
  const modelPairs: string[] = [];
  const trainPairs: Record<string, string> = {};
  for (const pair of pairs) {
    const key = pair.slice(0, Math.max(0, pair.indexOf('='))).trim();
    if (isTrainKey(key)) trainPairs[key] = pair.slice(pair.indexOf('=') + 1);
    else if (key in CONFIG_FIELDS || key === '') modelPairs.push(pair);
    else
      throw new UsageError(
        `train: --set ${pair}: "${key}" is neither a model field (${Object.keys(CONFIG_FIELDS).join(', ')}) nor a training key (${Object.keys(DEFAULT_TRAIN_CONFIG).join(', ')})`,
      );
  }
  return { model: parseConfigOverrides(modelPairs), train: trainPairs };
}

function str(args: Parsed, name: string): string | undefined {
  const v = args.options[name];
  return typeof v === 'string' ? v : undefined;
}

export const trainCommand: Command = {
  spec: {
    name: 'train',
    summary: 'Pretrain a model on a prepared dataset (checkpoints, --resume, --init-from)',
    usage:
      'llmforge train --data <dir> --model <preset> --out <dir> [--set key=value [key=value ...]] [options]\n       llmforge train --out <dir> --resume [--steps N]',
    options,
    details: [
      'Overrides: --set key=value [key=value ...] sets model fields (nLayer=2, nEmbd=64, dropout=0.1) and training keys',
      '(beta1, beta2, eps, lrDecaySteps, warmupDivisor, evalSeed, sampleTemperature and every flag above by its key name).',
      'Ctrl-C finishes the current update, saves <out>/checkpoints/latest and exits with status 130; --resume continues.',
      'Precision: --precision fp32|bf16 is used as given; auto takes LLMFORGE_MATMUL when set, else bf16 on CPUs with',
      'AMX-BF16 or AVX512_BF16 (see `llmforge doctor`), else fp32. Evaluations and samples during the run use the same',
      "precision. --resume keeps the checkpoint's precision unless --precision is given (a change is printed as a note).",
      '',
      'Examples:',
      '  llmforge data prepare --input ../shared/data/tinyshakespeare/input.txt --tokenizer char --val-split tail --val-fraction 0.1 --out runs/data/shakespeare',
      '  llmforge train --data runs/data/shakespeare --model char-tiny --out runs/shakespeare --steps 2000',
      '  llmforge train --out runs/shakespeare --resume --steps 3000',
      '  llmforge train --data runs/data/other --init-from runs/shakespeare --out runs/adapted --steps 500 --lr 3e-4',
    ].join('\n'),
  },
  async run(args) {
    const out = str(args, 'out');
    if (out === undefined) throw new UsageError('train: --out <dir> is required (the run directory)');
    const resume = args.options.resume === true;
    const initFrom = str(args, 'init-from');
    const sets = overrides(args);
    const flagValues: Record<string, unknown> = {};
    for (const [flag, f] of Object.entries(FLAGS))
      if (args.options[flag] !== undefined) flagValues[f.key] = args.options[flag];
    if (args.options.precision !== undefined)
      flagValues.precision = parsePrecisionSetting(args.options.precision, 'train: --precision');
    const preset = str(args, 'model');
    const data = str(args, 'data');
    const hasModelOverrides = Object.keys(sets.model).length > 0;
    // --set training keys apply after the flags, and name themselves '--set' in errors.
    const opts: PretrainOptions = {
      out,
      resume,
      quiet: args.options.quiet === true,
      log: (line) => void process.stdout.write(`${line}\n`),
      ...(data !== undefined ? { data } : {}),
      ...(preset !== undefined ? { preset } : {}),
      ...(hasModelOverrides ? { model: sets.model } : {}),
      ...(initFrom !== undefined ? { initFrom } : {}),
      train: { ...flagValues, ...sets.train },
      run: {
        ...(preset !== undefined ? { model: preset } : {}),
        ...(hasModelOverrides ? { modelOverrides: sets.model } : {}),
      },
    };
    const interrupt = interruptOnSigint(); // the first Ctrl-C saves and stops, a second quits
    try {
      const result = await runPretraining({ ...opts, signal: interrupt.signal }, NAMES);
      if (result.stopped) {
        if (args.options.quiet === true)
          process.stdout.write(
            `stopped at step ${result.step}/${result.config.steps}; checkpoint saved to ${result.checkpointDir}\n`,
          );
        process.stdout.write(`resume with: llmforge train --out ${out} --resume\n`);
        process.exit(130);
      }
      const ev = result.lastEval;
      process.stdout.write(
        `trained to step ${result.step}${ev ? `: val loss ${ev.loss.toFixed(4)}, ppl ${ev.ppl.toFixed(2)}, ${ev.bpb.toFixed(3)} bits/byte` : ''}; model in ${result.checkpointDir}\n`,
      );
    } finally {
      interrupt.release();
    }
  },
};
