/**
 * Child process for memory.test.ts: trains a small GPT for N steps and prints, at ten checkpoints as JSON, the
 * memory the process holds after a full garbage collection: resident set size, the V8 heap's committed size, and
 * the live memory (JS heap in use plus ArrayBuffer storage). Run with --expose-gc. The collection runs twice: V8
 * frees dead ArrayBuffer storage on a background thread after a GC, and the next GC first waits for that, so after
 * the second one the counts hold no garbage from the training steps however late the background thread ran.
 */
import { GPT } from '../../src/models/gpt.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { clipScale } from '../../src/optim/param-groups.ts';
import { Rng } from '../../src/tensor/random.ts';

const steps = Number(process.argv[2] ?? 10000);
const rng = new Rng(3);
const model = new GPT(
  {
    arch: 'gpt2',
    vocabSize: 32,
    blockSize: 16,
    nLayer: 1,
    nHead: 2,
    nKvHead: 2,
    nEmbd: 32,
    mlpHidden: 128,
    dropout: 0.1,
    bias: true,
    normEps: 1e-5,
    ropeTheta: 10000,
    tieEmbeddings: true,
  },
  rng,
);
const params = model.parameters();
const opt = new AdamW(params, { lr: 1e-3 });
const B = 4;
const T = 16;
const ids = new Int32Array(B * T);
const targets = new Int32Array(B * T);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('memory-loop: run with --expose-gc');
const mb = (bytes: number): number => bytes / 2 ** 20;
const samples: { step: number; rssMb: number; heapTotalMb: number; liveMb: number; loss: number }[] = [];
for (let step = 1; step <= steps; step++) {
  for (let i = 0; i < ids.length; i++) {
    ids[i] = rng.int(32);
    targets[i] = (ids[i]! + 1) % 32;
  }
  const { loss } = model.forward(ids, B, T, targets);
  opt.zeroGrad();
  loss!.backward();
  opt.step(clipScale(params, 1).scale);
  if (step % (steps / 10) === 0) {
    gc();
    gc();
    const m = process.memoryUsage();
    samples.push({
      step,
      rssMb: mb(m.rss),
      heapTotalMb: mb(m.heapTotal),
      liveMb: mb(m.heapUsed + m.arrayBuffers),
      loss: loss!.item(),
    });
  }
}
process.stdout.write(`${JSON.stringify(samples)}\n`);
