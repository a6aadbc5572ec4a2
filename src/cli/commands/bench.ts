/** `llmforge bench <gemm|ops|attention>`: kernel benchmarks printing one JSON object per line (see src/bench/). */
import { benchAttention } from '../../bench/attention.ts';
import { benchCharlm } from '../../bench/charlm.ts';
import { benchGemm } from '../../bench/gemm.ts';
import { benchLora } from '../../bench/lora.ts';
import {
  benchGenerate,
  DEFAULT_GENERATE_CONFIGS,
  GENERATE_CONFIGS,
  type GenerateConfigName,
} from '../../bench/generate.ts';
import { benchOps } from '../../bench/ops.ts';
import { benchTokenizer } from '../../bench/tokenizer.ts';
import { benchTrain, TRAIN_CONFIGS, type TrainConfigName } from '../../bench/train.ts';
import { backend } from '../../backend/index.ts';
import { defaultDecodePrecision, parseDecodePrecision } from '../../models/decoder.ts';
import { parsePrecisionSetting, resolvePrecision } from '../../train/precision.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';

export const benchCommand: Command = {
  spec: {
    name: 'bench',
    summary: 'Benchmark kernels and the tokenizer (gemm, ops, attention, tokenizer, train); JSON lines with --json',
    usage:
      'llmforge bench <gemm|ops|attention|tokenizer|train|generate|charlm|lora> [--json] [--reps N] [--threads N] [--torch] [--bf16] [--precision auto|fp32|bf16] [--decode-precision fp32|bf16]',
    options: {
      json: { type: 'boolean', help: 'Print one JSON object per line' },
      reps: { type: 'number', help: 'Timed repetitions per case', arg: 'N' },
      threads: { type: 'number', help: 'Native threads (default: all cores or LLMFORGE_THREADS)', arg: 'N' },
      torch: {
        type: 'boolean',
        help: 'Also run the PyTorch reference in the same run (gemm, attention; needs /usr/bin/python3 with torch)',
      },
      'train-mb': {
        type: 'string',
        help: 'tokenizer: corpus sizes in MB for the training benchmark (default 10)',
        arg: 'LIST',
      },
      config: {
        type: 'string',
        help: 'train: comma-separated configs (T1, T2, T3); generate: T2, T3, llama-mini',
        arg: 'LIST',
      },
      bf16: {
        type: 'boolean',
        help: 'gemm: also time the reduced-precision bf16 path; train: alias of --precision bf16',
      },
      precision: {
        type: 'string',
        help: "train: our side's matmul precision, fp32 (default, as T1-T3 are defined; or LLMFORGE_MATMUL), bf16, or auto (bf16 on CPUs with AMX-BF16/AVX512_BF16)",
        arg: 'P',
      },
      'decode-precision': {
        type: 'string',
        help: 'generate: weights of decode steps, fp32 (default, or LLMFORGE_DECODE) or bf16',
        arg: 'P',
      },
      data: {
        type: 'string',
        help: 'charlm: the text file (e.g. ../shared/data/tinyshakespeare/input.txt)',
        arg: 'FILE',
      },
      iters: { type: 'number', help: 'charlm: training iterations (default 2000)', arg: 'N' },
      preset: {
        type: 'string',
        help: 'lora: model preset for LoRA vs full fine-tuning (default: gpt-mini, then llama-mini)',
        arg: 'NAME',
      },
    },
    details: [
      'Examples:',
      '  llmforge bench gemm --json --torch   # our sgemm beside torch.mm on the same shapes, with ratios',
      '  llmforge bench ops --json            # fused ops in GB/s',
      '  llmforge bench attention --json      # fused attention forward/backward/decode',
      '  llmforge bench tokenizer --json      # encode MB/s beside tiktoken and gpt-tokenizer; BPE training',
      '  llmforge bench train --json --torch  # GPT training tokens/s for T1-T3 beside PyTorch (fp32)',
      '  llmforge bench train --json --precision bf16  # the same with bf16 matmuls (fp32 accumulation)',
      '  llmforge bench generate --json --torch  # KV-cached greedy decode tokens/s for T2, T3 beside PyTorch',
      '  llmforge bench charlm --data ../shared/data/tinyshakespeare/input.txt --json --torch  # nanoGPT char recipe, val loss beside PyTorch',
      '  llmforge bench lora --json --reps 5  # LoRA vs full fine-tuning on gpt-mini: optimizer state, peak RSS, step time',
      'Benchmarks on a small machine are ruined by anything else running: run them alone.',
    ].join('\n'),
  },
  async run(args) {
    const [which] = args.positionals;
    const json = args.options.json === true;
    const reps = args.options.reps as number | undefined;
    const threads = args.options.threads as number | undefined;
    if (threads !== undefined) {
      if (!Number.isInteger(threads) || threads < 1)
        throw new UsageError(`bench: --threads must be a positive integer, received ${threads}`);
      backend().setNumThreads(threads);
    }
    const common = { json, ...(reps !== undefined ? { reps } : {}) };
    switch (which) {
      case 'gemm':
        return benchGemm({
          ...common,
          ...(threads !== undefined ? { threads } : {}),
          torch: args.options.torch === true,
          bf16: args.options.bf16 === true,
        });
      case 'ops':
        return benchOps(common);
      case 'tokenizer':
        return benchTokenizer({
          ...common,
          ...(args.options['train-mb'] ? { trainMb: String(args.options['train-mb']).split(',').map(Number) } : {}),
        });
      case 'train': {
        const list = args.options.config ? String(args.options.config).split(',') : ['T1', 'T2', 'T3'];
        for (const c of list)
          if (!(c in TRAIN_CONFIGS)) throw new UsageError(`bench train: unknown --config ${c}; expected T1, T2 or T3`);
        const p =
          args.options.precision === undefined
            ? undefined
            : resolvePrecision(parsePrecisionSetting(args.options.precision, 'bench train: --precision')).precision;
        if (args.options.bf16 === true && p === 'fp32')
          throw new UsageError('bench train: --bf16 and --precision fp32 contradict each other; pass one');
        return benchTrain({
          json,
          configs: list as TrainConfigName[],
          torch: args.options.torch === true,
          bf16: args.options.bf16 === true,
          ...(p !== undefined ? { precision: p } : {}),
          ...(reps !== undefined ? { steps: reps } : {}),
        });
      }
      case 'generate': {
        const list = args.options.config ? String(args.options.config).split(',') : [...DEFAULT_GENERATE_CONFIGS];
        for (const c of list)
          if (!(GENERATE_CONFIGS as readonly string[]).includes(c))
            throw new UsageError(`bench generate: unknown --config ${c}; expected T2, T3 or llama-mini`);
        const p = args.options['decode-precision'] as string | undefined;
        const decodePrecision =
          p === undefined ? defaultDecodePrecision() : parseDecodePrecision(p, 'bench generate: --decode-precision');
        return benchGenerate({
          json,
          configs: list as GenerateConfigName[],
          torch: args.options.torch === true,
          decodePrecision,
          ...(reps !== undefined ? { runs: reps } : {}),
        });
      }
      case 'charlm':
        if (typeof args.options.data !== 'string') throw new UsageError('bench charlm: --data <text file> is required');
        return benchCharlm({
          json,
          data: args.options.data,
          torch: args.options.torch === true,
          ...(args.options.iters !== undefined ? { iters: args.options.iters as number } : {}),
        });
      case 'lora':
        return benchLora({
          json,
          ...(reps !== undefined ? { steps: reps } : {}),
          ...(typeof args.options.preset === 'string' ? { preset: args.options.preset } : {}),
        });
      case 'attention':
        return benchAttention({ ...common, torch: args.options.torch === true });
      default:
        throw new UsageError(
          `bench: unknown benchmark "${which ?? ''}"; expected gemm, ops, attention, tokenizer, train, generate, charlm or lora`,
        );
    }
  },
};
