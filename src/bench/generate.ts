/**
 * Decode throughput of KV-cached greedy generation at batch 1, random weights, for the configs T2 and T3 of
 * bench/train.ts (GPT-2 style) and the `llama-mini` preset (on request; no PyTorch reference for it): a 16-token
 * random prompt, then 128 new tokens through `generate`, timed as
 * ../shared/bench/torch_gpt_bench.py --mode gen times PyTorch: (new tokens - 1) / (total - prefill), median over
 * runs after one warm-up. Prints {"bench":"generate","config":..,"decode_tokens_per_s":..} lines; with torch, the
 * PyTorch reference runs in the same session with the environment its header gives, and the ratio is printed.
 * `decodePrecision` picks the weights of our decode steps (fp32 or bf16; the PyTorch side is always fp32), and each
 * line says which path ran (`decode_path`: fp32 or bf16 for the fused decoder, forward for the op-by-op one).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { generate } from '../generate/generate.ts';
import { createModel } from '../models/create.ts';
import { completeModelConfig } from '../models/config.ts';
import { defaultDecodePrecision, type DecodePrecision } from '../models/decoder.ts';
import type { ModelConfig } from '../models/model.ts';
import { resolveModelConfig } from '../models/presets.ts';
import { Rng } from '../tensor/random.ts';
import { TRAIN_CONFIGS } from './train.ts';

export const GENERATE_CONFIGS = ['T2', 'T3', 'llama-mini'] as const;
export type GenerateConfigName = (typeof GENERATE_CONFIGS)[number];
/** The configs run when none is named (the ones with a PyTorch reference). */
export const DEFAULT_GENERATE_CONFIGS: readonly GenerateConfigName[] = ['T2', 'T3'];

function modelConfig(name: GenerateConfigName): ModelConfig {
  if (name === 'llama-mini') return resolveModelConfig('llama-mini');
  const c = TRAIN_CONFIGS[name];
  return completeModelConfig({
    arch: 'gpt2',
    vocabSize: c.vocab,
    blockSize: c.ctx,
    nLayer: c.nLayer,
    nHead: c.nHead,
    nEmbd: c.d,
  });
}

const TORCH_SCRIPT = fileURLToPath(new URL('../../../shared/bench/torch_gpt_bench.py', import.meta.url));
const PROMPT = 16;
const NEW = 128;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function runConfig(name: GenerateConfigName, runs: number, decodePrecision: DecodePrecision): Record<string, unknown> {
  const rng = new Rng(1337);
  const model = createModel(modelConfig(name), rng);
  const vocab = model.config.vocabSize;
  const rates: number[] = [];
  const prefill: number[] = [];
  let path = '';
  for (let r = 0; r < runs + 1; r++) {
    const prompt = Array.from({ length: PROMPT }, () => rng.int(vocab));
    const s = generate(model, prompt, { temperature: 0, maxNewTokens: NEW, decodePrecision });
    path = s.decodePath;
    if (s.ids.length !== NEW)
      throw new Error(`bench generate ${name}: expected ${NEW} tokens, got ${s.ids.length} (${s.stopReason})`);
    if (r === 0) continue; // warm-up
    rates.push((NEW - 1) / (s.decodeMs / 1000));
    prefill.push(s.prefillMs);
  }
  return {
    bench: 'generate',
    impl: 'llmforge',
    config: name,
    params: model.numParameters(),
    prompt: PROMPT,
    new_tokens: NEW,
    decode_precision: decodePrecision,
    decode_path: path,
    decode_tokens_per_s: median(rates),
    decode_min: Math.min(...rates),
    decode_max: Math.max(...rates),
    prefill_ms_median: median(prefill),
    runs,
  };
}

export async function benchGenerate(opts: {
  json: boolean;
  configs?: GenerateConfigName[];
  runs?: number;
  torch?: boolean;
  decodePrecision?: DecodePrecision;
}): Promise<void> {
  const runs = opts.runs ?? 3;
  for (const name of opts.configs ?? DEFAULT_GENERATE_CONFIGS) {
    const ours = runConfig(name, runs, opts.decodePrecision ?? defaultDecodePrecision());
    print(opts.json, ours);
    if (opts.torch && name !== 'llama-mini') {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        OMP_WAIT_POLICY: 'passive',
        GLIBC_TUNABLES: 'glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736',
      };
      delete env.OPENBLAS_CORETYPE;
      delete env.OPENBLAS_L2_SIZE;
      const args = [
        TORCH_SCRIPT,
        '--mode',
        'gen',
        '--cfg',
        name,
        '--steps',
        String(runs),
        '--warmup',
        '1',
        '--prompt',
        String(PROMPT),
        '--new',
        String(NEW),
      ];
      const t = spawnSync('/usr/bin/python3', args, { encoding: 'utf8', env });
      const line = t.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line)
        throw new Error(`bench generate: the PyTorch reference printed no RESULT line:\n${t.stderr.slice(-2000)}`);
      const res = JSON.parse(line.slice(7)) as Record<string, number>;
      print(opts.json, {
        bench: 'generate_torch',
        config: name,
        decode_tokens_per_s: res.decode_tokens_per_s!,
        decode_min: res.decode_min!,
        decode_max: res.decode_max!,
        ratio: (ours.decode_tokens_per_s as number) / res.decode_tokens_per_s!,
      });
    }
  }
}

function print(json: boolean, obj: Record<string, unknown>): void {
  if (json) process.stdout.write(`${JSON.stringify(obj)}\n`);
  else
    process.stdout.write(
      `${Object.entries(obj)
        .map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(2) : v}`)
        .join(' ')}\n`,
    );
}
