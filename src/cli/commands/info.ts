/**
 * `llmforge info --model <preset|dir>`: what a model costs before training it. Parameters per component (from the
 * config alone, so even GPT-2 124M prints instantly), FLOPs per token for a forward pass and a training step, and
 * training memory (weights, gradients, AdamW state, activations) for a batch and sequence length, with the
 * assumptions behind each figure. `--json` prints one JSON object.
 */
import { existsSync } from 'node:fs';
import { resolveModelDir } from '../../generate/model-dir.ts';
import { headSize, parseConfigOverrides } from '../../models/config.ts';
import { countParameters, flopsPerToken, trainingMemory } from '../../models/flops.ts';
import type { ModelConfig } from '../../models/model.ts';
import { readModelConfig } from '../../models/model-io.ts';
import { PRESETS, resolveModelConfig } from '../../models/presets.ts';
import { formatBytes, formatCount, formatFlops } from '../../models/units.ts';
import { optionValues, UsageError, type Parsed } from '../args.ts';
import type { Command } from '../command.ts';

/** Every `--set key=value` plus any further key=value positionals. */
export function collectOverrides(cmd: string, args: Parsed): Partial<ModelConfig> {
  const pairs: string[] = [];
  pairs.push(...optionValues(args, 'set'));
  for (const p of args.positionals) {
    if (!p.includes('='))
      throw new UsageError(`${cmd}: unexpected argument "${p}"; model overrides are key=value (e.g. nLayer=4)`);
    pairs.push(p);
  }
  return parseConfigOverrides(pairs);
}

/** A config from a preset name, a saved model directory or a training run's directory, with overrides applied. */
export function modelConfigFrom(
  cmd: string,
  model: string,
  overrides: Partial<ModelConfig>,
): { config: ModelConfig; source: string } {
  if (PRESETS[model]) return { config: resolveModelConfig(model, overrides), source: `preset ${model}` };
  if (existsSync(model) || model.startsWith('hf://')) {
    const dir = resolveModelDir(model);
    return { config: resolveModelConfig(readModelConfig(dir).config, overrides), source: dir };
  }
  throw new UsageError(
    `${cmd}: --model "${model}" is neither a preset (${Object.keys(PRESETS).join(', ')}) nor a model directory`,
  );
}

function positiveInt(cmd: string, name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (!(Number.isInteger(v) && (v as number) > 0))
    throw new UsageError(`${cmd}: --${name} must be a positive integer, received ${String(v)}`);
  return v as number;
}

export const infoCommand: Command = {
  spec: {
    name: 'info',
    summary: 'Parameters, FLOPs per token and training memory of a model preset or directory',
    usage: 'llmforge info --model <preset|dir> [--set key=value ...] [--batch B] [--seq T] [--json]',
    options: {
      model: {
        type: 'string',
        help: `A preset (${Object.keys(PRESETS).join(', ')}), a saved model or a training run directory`,
        arg: 'NAME|DIR',
      },
      set: {
        type: 'string',
        help: 'Override a config field, e.g. nLayer=8; more key=value arguments may follow',
        arg: 'KEY=VALUE',
        repeatable: true,
      },
      batch: { type: 'number', help: 'Batch size for the memory estimate', default: 1, arg: 'B' },
      seq: { type: 'number', help: 'Sequence length for FLOPs and memory (default: the context length)', arg: 'T' },
      json: { type: 'boolean', help: 'Print one JSON object' },
    },
    details: [
      'Examples:',
      '  llmforge info --model gpt2-124m',
      '  llmforge info --model llama-mini --set vocabSize=4096 nLayer=8 --batch 8',
      '  llmforge info --model runs/demo/model --json',
      '',
      'Presets:',
      ...Object.entries(PRESETS).map(([k, p]) => `  ${k.padEnd(12)}${p.description}`),
    ].join('\n'),
  },
  run(args) {
    const name = args.options.model;
    if (typeof name !== 'string')
      throw new UsageError('info: --model is required (a preset or a model directory); see `llmforge info --help`');
    const { config: cfg, source } = modelConfigFrom('info', name, collectOverrides('info', args));
    const batch = positiveInt('info', 'batch', args.options.batch)!;
    const seq = positiveInt('info', 'seq', args.options.seq) ?? cfg.blockSize;
    if (seq > cfg.blockSize)
      throw new UsageError(`info: --seq ${seq} exceeds the model's context length ${cfg.blockSize}`);
    const params = countParameters(cfg);
    const flops = flopsPerToken(cfg, seq);
    const mem = trainingMemory(cfg, batch, seq);
    if (args.options.json) {
      process.stdout.write(
        `${JSON.stringify({ model: source, config: cfg, params, flopsPerToken: flops, memory: mem })}\n`,
      );
      return;
    }
    const pct = (n: number): string => `${((100 * n) / params.total).toFixed(1).padStart(5)}%`;
    const row = (label: string, n: number, note = ''): string =>
      `  ${label.padEnd(15)}${formatCount(n).padStart(14)}  ${pct(n)}${note ? `  ${note}` : ''}`;
    const C = cfg.nEmbd;
    const arch =
      cfg.arch === 'gpt2'
        ? `gpt2 (learned positions, LayerNorm, GELU MLP ${cfg.mlpHidden})`
        : `llama (RoPE base ${cfg.ropeTheta}${cfg.ropeScaling ? ` with ${cfg.ropeScaling.type} scaling x${cfg.ropeScaling.factor}` : ''}, RMSNorm, SwiGLU ${cfg.mlpHidden})`;
    const out = [
      `${source}: ${arch}`,
      `  ${cfg.nLayer} layers, ${cfg.nHead} heads (${cfg.nKvHead} key/value), width ${C}, head size ${headSize(cfg)}, context ${cfg.blockSize}, vocabulary ${cfg.vocabSize}, ` +
        `${cfg.bias ? 'biases' : 'no biases'}, ${cfg.tieEmbeddings ? 'head tied to the embedding' : 'untied head'}, dropout ${cfg.dropout}`,
      '',
      'parameters',
      row(
        'embeddings',
        params.embeddings,
        cfg.arch === 'gpt2'
          ? `tokens ${formatCount(cfg.vocabSize * C)} + positions ${formatCount(cfg.blockSize * C)}`
          : '',
      ),
      row('attention', params.attention),
      row('mlp', params.mlp),
      row('norms', params.norms),
      row('head', params.head, cfg.tieEmbeddings ? 'tied: shares the token embedding' : ''),
      row('total', params.total),
      row('non-embedding', params.nonEmbedding, 'blocks and norms (Kaplan N)'),
      '',
      `FLOPs per token at context ${seq}`,
      `  forward        ${formatFlops(flops.forward).padStart(14)}  = 2 x ${formatCount(flops.matmulParams)} matmul weights (head included) + attention 4*L*T*C ${formatFlops(flops.forwardAttention)}`,
      `  training       ${formatFlops(flops.training).padStart(14)}  = 3 x forward (6N + 12*L*T*C, PaLM/Chinchilla accounting)`,
      `  per step       ${formatFlops(flops.training * batch * seq).padStart(14)}  training, batch ${batch} x ${seq} tokens`,
      '',
      `training memory, batch ${batch} x ${seq} tokens (fp32, AdamW)`,
      `  weights        ${formatBytes(mem.weights).padStart(14)}  4 bytes per parameter`,
      `  gradients      ${formatBytes(mem.gradients).padStart(14)}  4 bytes per parameter`,
      `  AdamW state    ${formatBytes(mem.optimizer).padStart(14)}  two fp32 moments, 8 bytes per parameter`,
      `  activations    ${formatBytes(mem.activations).padStart(14)}  ${mem.activationFloatsPerTokenLayer} floats per token per layer + embedding/final norm 2C + logits and softmax 2V per token`,
      `  total          ${formatBytes(mem.total).padStart(14)}`,
      '',
      'assumptions: fused attention keeps no T x T scores (one logsumexp per query row); no activation checkpointing;',
      'norms, softmax and elementwise FLOPs are left out; the attention term counts the full T x T (causal masking halves the real work).',
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  },
};
