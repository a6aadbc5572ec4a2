/**
 * LoRA against full fine-tuning on the same model and the same random-token batches: AdamW over all parameters
 * versus over the adapters only (r 8, alpha 16; on c_attn, c_proj, c_fc for GPT-2 presets and on the seven
 * q/k/v/o/gate/up/down projections for Llama presets). By default it runs gpt-mini and llama-mini; `preset` picks
 * one (gpt2-124m works too, given ~3 GB of memory). Both modes run forward and backward inside a StorageArena, as
 * the trainers do, and each mode runs in its own child process so peak RSS is per mode. Prints per mode {"bench":
 * "lora","mode":"full"|"lora","trainable":..,"optimizer_state_bytes":..,"grad_bytes":..,"step_ms_median":..,
 * "peak_rss_mb":..} and per preset the LoRA / full ratios.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childLoader } from './child.ts';
import { createModel } from '../models/create.ts';
import { resolveModelConfig } from '../models/presets.ts';
import { applyLora, trainableParameters } from '../nn/lora.ts';
import { AdamW } from '../optim/adamw.ts';
import { clipScale, decayGroups } from '../optim/param-groups.ts';
import { StorageArena } from '../tensor/arena.ts';
import { Rng } from '../tensor/random.ts';

export interface LoraBenchOptions {
  json: boolean;
  /** Model preset (default: gpt-mini, then llama-mini). */
  preset?: string;
  /** Timed optimizer steps per mode (default 5, after 2 warm-up steps). */
  steps?: number;
  batch?: number;
  ctx?: number;
  r?: number;
  /** Adapted Linear layers (default by architecture, see the header). */
  targets?: string[];
}

interface ModeOptions {
  preset: string;
  steps: number;
  batch: number;
  ctx: number;
  r: number;
  targets: string[] | null;
}

const SELF = fileURLToPath(import.meta.url);
const DEFAULT_PRESETS = ['gpt-mini', 'llama-mini'];
const DEFAULT_TARGETS: Record<string, string[]> = {
  gpt2: ['c_attn', 'c_proj', 'c_fc'],
  llama: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
};

/** Runs one mode in this process and returns its result. */
function runMode(mode: 'full' | 'lora', o: ModeOptions, warmup: number): Record<string, unknown> {
  const cfg = resolveModelConfig(o.preset, { dropout: 0 });
  const model = createModel(cfg, new Rng(1337));
  const targets = o.targets ?? DEFAULT_TARGETS[cfg.arch] ?? [];
  if (mode === 'lora') applyLora(model, { r: o.r, alpha: 2 * o.r, targets, rng: new Rng(7) });
  const params = model.parameters().filter((p) => p.requiresGrad);
  const opt = new AdamW(decayGroups(params), { lr: 1e-4, beta1: 0.9, beta2: 0.95, weightDecay: 0.1 });
  const T = Math.min(o.ctx, cfg.blockSize);
  const n = o.batch * T;
  const ids = new Int32Array(n);
  const labels = new Int32Array(n);
  const data = new Rng(99);
  const arena = new StorageArena(); // activations and gradients reuse last step's storage, as in the trainers
  const times: number[] = [];
  let gradBytes = 0;
  for (let step = 0; step < warmup + o.steps; step++) {
    for (let i = 0; i < n; i++) {
      ids[i] = data.int(cfg.vocabSize);
      labels[i] = data.int(cfg.vocabSize);
    }
    const t0 = performance.now();
    arena.run(() => {
      const { loss } = model.forward(ids, o.batch, T, labels);
      opt.zeroGrad();
      loss!.backward();
    });
    opt.step(clipScale(params, 1).scale);
    if (step >= warmup) times.push(performance.now() - t0);
    gradBytes = 0;
    for (const p of model.parameters()) if (p.grad) gradBytes += p.grad.data.byteLength;
  }
  times.sort((a, b) => a - b);
  let stateBytes = 0;
  for (const s of opt.state.values()) stateBytes += s.m.byteLength + s.v.byteLength;
  const { trainable, total } = trainableParameters(model);
  return {
    bench: 'lora',
    mode,
    preset: o.preset,
    arch: cfg.arch,
    batch: o.batch,
    ctx: T,
    ...(mode === 'lora' ? { r: o.r, targets: targets.join(',') } : {}),
    trainable,
    total,
    trainable_share: trainable / total,
    optimizer_state_bytes: stateBytes,
    grad_bytes: gradBytes,
    step_ms_median: times[Math.floor(times.length / 2)]!,
    step_ms_min: times[0]!,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    steps: o.steps,
  };
}

export async function benchLora(opts: LoraBenchOptions): Promise<void> {
  const presets = opts.preset !== undefined ? [opts.preset] : DEFAULT_PRESETS;
  for (const preset of presets) {
    resolveModelConfig(preset); // an unknown preset fails here, with the list of presets, not in a child
    const o: ModeOptions = {
      preset,
      steps: opts.steps ?? 5,
      batch: opts.batch ?? 4,
      ctx: opts.ctx ?? 128,
      r: opts.r ?? 8,
      targets: opts.targets ?? null,
    };
    const results: Record<string, number>[] = [];
    for (const mode of ['full', 'lora'] as const) {
      const r = spawnSync(process.execPath, [...childLoader(SELF), SELF, '--child', mode, JSON.stringify(o)], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      if (r.status !== 0) throw new Error(`bench lora ${preset} ${mode} failed:\n${r.stderr}`);
      const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
      results.push(res);
      print(opts.json, res);
    }
    const [full, lora] = results as [Record<string, number>, Record<string, number>];
    print(opts.json, {
      bench: 'lora_vs_full',
      preset,
      optimizer_state_ratio: lora.optimizer_state_bytes! / full.optimizer_state_bytes!,
      peak_rss_ratio: lora.peak_rss_mb! / full.peak_rss_mb!,
      step_time_ratio: lora.step_ms_median! / full.step_ms_median!,
    });
  }
}

function print(json: boolean, obj: Record<string, unknown>): void {
  if (json) process.stdout.write(`${JSON.stringify(obj)}\n`);
  else
    process.stdout.write(
      `${Object.entries(obj)
        .map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toPrecision(4) : v}`)
        .join(' ')}\n`,
    );
}

if (process.argv[2] === '--child' && process.argv[1] === SELF) {
  const mode = process.argv[3] as 'full' | 'lora';
  process.stdout.write(`${JSON.stringify(runMode(mode, JSON.parse(process.argv[4]!) as ModeOptions, 2))}\n`);
}
