/**
 * Same-process A/B of the training step on a shared, noisy machine: two identical models (same seed) train side by
 * side, alternating A and B step by step, and the script prints each variant's median, min and max step time and
 * its process CPU time per step. The variants differ in what `VARIANTS` sets before each step (today: whether
 * forward and backward run inside a StorageArena). Add a variant here when you A/B a new code path.
 *
 *   npx tsx bench/train-ab.ts [T1|T2|T3] [steps per variant] [variantA] [variantB]
 */
import { clipScale } from '../src/optim/param-groups.ts';
import { StorageArena } from '../src/tensor/arena.ts';
import { buildTrainBench, TRAIN_CONFIGS, type TrainConfigName } from '../src/bench/train.ts';

/** A variant wraps the forward+backward of one step. */
const VARIANTS: Record<string, () => (fn: () => void) => void> = {
  plain: () => (fn) => fn(),
  arena: () => {
    const arena = new StorageArena();
    return (fn) => arena.run(fn);
  },
};

function makeRunner(name: TrainConfigName, variant: string): () => void {
  const c = TRAIN_CONFIGS[name];
  const { rng, model, params, opt } = buildTrainBench(c);
  const make = VARIANTS[variant];
  if (!make) throw new RangeError(`train-ab: unknown variant ${variant}; expected ${Object.keys(VARIANTS).join(', ')}`);
  const wrap = make();
  const n = c.batch * c.ctx;
  const ids = new Int32Array(n);
  const targets = new Int32Array(n);
  return () => {
    for (let i = 0; i < n; i++) {
      ids[i] = rng.int(c.vocab);
      targets[i] = rng.int(c.vocab);
    }
    wrap(() => {
      const { loss } = model.forward(ids, c.batch, c.ctx, targets);
      opt.zeroGrad();
      loss!.backward();
    });
    opt.step(clipScale(params, 1).scale);
  };
}

const name = (process.argv[2] ?? 'T1') as TrainConfigName;
const steps = Number(process.argv[3] ?? 30);
const names = [process.argv[4] ?? 'plain', process.argv[5] ?? 'arena'];
const runners = names.map((v) => makeRunner(name, v));
const times: number[][] = names.map(() => []);
const cpu: number[] = names.map(() => 0);
for (let s = 0; s < steps + 3; s++) {
  runners.forEach((run, k) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    run();
    const dt = performance.now() - t0;
    const c1 = process.cpuUsage(c0);
    if (s >= 3) {
      times[k]!.push(dt);
      cpu[k]! += (c1.user + c1.system) / 1000;
    }
  });
}
names.forEach((v, k) => {
  const t = [...times[k]!].sort((a, b) => a - b);
  process.stdout.write(
    `${name} ${v.padEnd(8)} step median ${t[Math.floor(t.length / 2)]!.toFixed(2)} ms [${t[0]!.toFixed(2)}-${t[t.length - 1]!.toFixed(2)}], CPU ${(cpu[k]! / steps).toFixed(2)} ms/step, ${steps} steps\n`,
  );
});
