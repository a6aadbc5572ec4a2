/**
 * LoRA against full fine-tuning on the same model (a preset, gpt-mini by default) and the same random-token
 * batches: AdamW over all parameters versus over the adapters only (r 8, alpha 16 on c_attn, c_proj, c_fc by
 * default). Each mode runs in its own child process so peak RSS is per mode. Prints {"bench":"lora","mode":
 * "full"|"lora","trainable":..,"trainable_share":..,"optimizer_state_bytes":..,"step_ms_median":..,"peak_rss_mb":..}.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createModel } from '../src/models/create.ts';
import { resolveModelConfig } from '../src/models/presets.ts';
import { applyLora, trainableParameters } from '../src/nn/lora.ts';
import { AdamW } from '../src/optim/adamw.ts';
import { clipScale } from '../src/optim/param-groups.ts';
import { Rng } from '../src/tensor/random.ts';

export interface LoraBenchOptions {
  json: boolean;
  /** Model preset (default gpt-mini). */
  preset?: string;
  /** Timed optimizer steps per mode (default 5, after 2 warm-up steps). */
  steps?: number;
  batch?: number;
  ctx?: number;
  r?: number;
  targets?: string[];
}

const SELF = fileURLToPath(import.meta.url);
const DEFAULTS = { preset: 'gpt-mini', steps: 5, batch: 4, ctx: 128, r: 8, targets: ['c_attn', 'c_proj', 'c_fc'] };

/** Runs one mode in this process and returns its result. */
function runMode(mode: 'full' | 'lora', o: typeof DEFAULTS, warmup: number): Record<string, unknown> {
  const rng = new Rng(1337);
  const cfg = resolveModelConfig(o.preset, { dropout: 0 });
  const model = createModel(cfg, rng);
  if (mode === 'lora') applyLora(model, { r: o.r, alpha: 2 * o.r, targets: o.targets, rng: new Rng(7) });
  const params = model.parameters().filter((p) => p.requiresGrad);
  const opt = new AdamW([
    { params: params.filter((p) => p.ndim >= 2) },
    { params: params.filter((p) => p.ndim < 2), options: { weightDecay: 0 } },
  ].filter((g) => g.params.length > 0), { lr: 1e-4, beta1: 0.9, beta2: 0.95, weightDecay: 0.1 });
  const T = Math.min(o.ctx, cfg.blockSize);
  const n = o.batch * T;
  const ids = new Int32Array(n);
  const targets = new Int32Array(n);
  const data = new Rng(99);
  const times: number[] = [];
  for (let step = 0; step < warmup + o.steps; step++) {
    for (let i = 0; i < n; i++) {
      ids[i] = data.int(cfg.vocabSize);
      targets[i] = data.int(cfg.vocabSize);
    }
    const t0 = performance.now();
    const { loss } = model.forward(ids, o.batch, T, targets);
    opt.zeroGrad();
    loss!.backward();
    opt.step(clipScale(params, 1).scale);
    if (step >= warmup) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  let stateBytes = 0;
  for (const s of opt.state.values()) stateBytes += s.m.byteLength + s.v.byteLength;
  const { trainable, total } = trainableParameters(model);
  return {
    bench: 'lora', mode, preset: o.preset, batch: o.batch, ctx: T, ...(mode === 'lora' ? { r: o.r, targets: o.targets.join(',') } : {}),
    trainable, total, trainable_share: trainable / total, optimizer_state_bytes: stateBytes,
    step_ms_median: times[Math.floor(times.length / 2)]!, step_ms_min: times[0]!, peak_rss_mb: process.resourceUsage().maxRSS / 1024, steps: o.steps,
  };
}

export async function benchLora(opts: LoraBenchOptions): Promise<void> {
  const o = {
    preset: opts.preset ?? DEFAULTS.preset, steps: opts.steps ?? DEFAULTS.steps, batch: opts.batch ?? DEFAULTS.batch, ctx: opts.ctx ?? DEFAULTS.ctx,
    r: opts.r ?? DEFAULTS.r, targets: opts.targets ?? DEFAULTS.targets,
  };
  const results: Record<string, number>[] = [];
  for (const mode of ['full', 'lora'] as const) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', SELF, '--child', mode, JSON.stringify(o)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`bench lora ${mode} failed:\n${r.stderr}`);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
    results.push(res);
    print(opts.json, res);
  }
  const [full, lora] = results as [Record<string, number>, Record<string, number>];
  print(opts.json, {
    bench: 'lora_vs_full', preset: o.preset, optimizer_state_ratio: lora.optimizer_state_bytes! / full.optimizer_state_bytes!,
    peak_rss_ratio: lora.peak_rss_mb! / full.peak_rss_mb!, step_time_ratio: lora.step_ms_median! / full.step_ms_median!,
  });
}

function print(json: boolean, obj: Record<string, unknown>): void {
  if (json) process.stdout.write(`${JSON.stringify(obj)}\n`);
  else process.stdout.write(`${Object.entries(obj).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toPrecision(4) : v}`).join(' ')}\n`);
}

if (process.argv[2] === '--child' && process.argv[1] === SELF) {
  const mode = process.argv[3] as 'full' | 'lora';
  process.stdout.write(`${JSON.stringify(runMode(mode, JSON.parse(process.argv[4]!) as typeof DEFAULTS, 2))}\n`);
}
