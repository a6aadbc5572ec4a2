/**
 * Child process for memory.test.ts: trains a small GPT for N steps and prints the resident set size (after a
 * forced GC) at a few checkpoints as JSON. Run with --expose-gc.
 */
import { GPT } from '../../src/models/gpt.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { clipScale } from '../../src/optim/param-groups.ts';
import { Rng } from '../../src/tensor/random.ts';

const steps = Number(process.argv[2] ?? 10000);
const rng = new Rng(3);
const model = new GPT({ arch: 'gpt2', vocabSize: 32, blockSize: 16, nLayer: 1, nHead: 2, nKvHead: 2, nEmbd: 32, mlpHidden: 128, dropout: 0.1, bias: true, normEps: 1e-5, ropeTheta: 10000, tieEmbeddings: true }, rng);
const params = model.parameters();
const opt = new AdamW(params, { lr: 1e-3 });
const B = 4;
const T = 16;
const ids = new Int32Array(B * T);
const targets = new Int32Array(B * T);
const gc = (globalThis as { gc?: () => void }).gc;
const samples: { step: number; rssMb: number; loss: number }[] = [];
for (let step = 1; step <= steps; step++) {
  for (let i = 0; i < ids.length; i++) {
    ids[i] = rng.int(32);
    targets[i] = (ids[i]! + 1) % 32;
  }
  const { loss } = model.forward(ids, B, T, targets);
  opt.zeroGrad();
  loss!.backward();
  opt.step(clipScale(params, 1).scale);
  if (step % (steps / 5) === 0) {
    gc?.();
    samples.push({ step, rssMb: process.memoryUsage().rss / 2 ** 20, loss: loss!.item() });
  }
}
process.stdout.write(`${JSON.stringify(samples)}\n`);
