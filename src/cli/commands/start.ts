/**
 * `llmforge start` (what `npm start` runs): a short, self-contained demo of the engine on an embedded text. A
 * small character-level MLP language model (Bengio et al. 2003 style: embeddings of the last few characters,
 * one hidden layer, a softmax over characters) is trained with AdamW; the loss falls and the model's guesses
 * for "The sun rises in the" improve as it learns. Nothing is downloaded.
 */
import { backend, cpuInfo } from '../../backend/index.ts';
import { noGrad } from '../../tensor/autograd.ts';
import { randn, zeros } from '../../tensor/creation.ts';
import { Rng } from '../../tensor/random.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import * as F from '../../ops/index.ts';
import { AdamW } from '../../optim/adamw.ts';
import { clipScale } from '../../optim/param-groups.ts';
import type { Command } from '../command.ts';

const CORPUS = [
  'The sun rises in the east and sets in the west.',
  'Every morning the sun rises in the east over the quiet hills.',
  'The moon rises in the evening and the stars come out at night.',
  'Birds sing when the sun rises in the east.',
  'The farmer wakes early, before the sun rises in the east.',
  'In the evening the sun sets in the west and the sky turns red.',
  'The children watch the sun rise in the east from the window.',
  'The river flows to the sea, and the sea is wide and deep.',
  'Cats sleep in the sun and dogs play in the park.',
  'The capital of France is Paris. The capital of Italy is Rome.',
].join('\n');

const PROMPT = 'The sun rises in the';

export const startCommand: Command = {
  spec: {
    name: 'start',
    summary: 'Demo: train a tiny character-level language model on an embedded text',
    usage: 'llmforge start [--steps N] [--seed N]',
    options: {
      steps: { type: 'number', help: 'Training steps', default: 600, arg: 'N' },
      seed: { type: 'number', help: 'Random seed', default: 1, arg: 'N' },
    },
  },
  run(args) {
    const steps = args.options.steps as number;
    const seed = args.options.seed as number;
    const cpu = cpuInfo();
    process.stdout.write(`llmforge demo: backend=${backend().name} isa=${cpu?.isa ?? 'n/a'} threads=${backend().numThreads()}\n`);

    const chars = [...new Set(CORPUS)].sort();
    const stoi = new Map(chars.map((c, i) => [c, i]));
    const V = chars.length;
    const ctx = 8;
    const emb = 24;
    const hidden = 256;
    const ids = Int32Array.from(CORPUS, (c) => stoi.get(c)!);

    const rng = new Rng(seed);
    const param = (shape: number[], std: number): Tensor => {
      const t = randn(shape, { rng, std });
      t.requiresGrad = true;
      return t;
    };
    const E = param([V, emb], 1);
    const W1 = param([hidden, ctx * emb], 1 / Math.sqrt(ctx * emb));
    const b1 = zeros([hidden], { requiresGrad: true });
    const W2 = param([V, hidden], 0.5 / Math.sqrt(hidden));
    const b2 = zeros([V], { requiresGrad: true });
    const params = [E, W1, b1, W2, b2];
    const nParams = params.reduce((n, p) => n + p.size, 0);
    process.stdout.write(`text: ${CORPUS.length} characters, vocabulary ${V}; model: ${nParams.toLocaleString('en-US')} parameters\n\n`);

    const logits = (contexts: Int32Array, B: number): Tensor => {
      const x = F.reshape(F.embedding(E, contexts, [B, ctx]), [B, ctx * emb]);
      return F.linear(F.gelu(F.linear(x, W1, b1)), W2, b2);
    };
    const contextOf = (text: string): Int32Array => {
      const out = new Int32Array(ctx).fill(stoi.get(' ')!);
      const tail = [...text].slice(-ctx);
      tail.forEach((c, i) => (out[ctx - tail.length + i] = stoi.get(c) ?? stoi.get(' ')!));
      return out;
    };
    const showGuesses = (label: string): void => {
      const probs = noGrad(() => F.softmax(logits(contextOf(PROMPT + ' '), 1)));
      const order = [...probs.data.keys()].sort((a, b) => probs.data[b]! - probs.data[a]!).slice(0, 5);
      process.stdout.write(`${label}: "${PROMPT} ___" next character guesses\n`);
      for (const i of order) {
        const p = probs.data[i]!;
        const shown = chars[i] === '\n' ? '\\n' : chars[i];
        process.stdout.write(`  ${`"${shown}"`.padEnd(6)} ${'█'.repeat(Math.round(p * 40)).padEnd(40)} ${(p * 100).toFixed(1)}%\n`);
      }
    };
    const complete = (): string => {
      let text = `${PROMPT} `;
      noGrad(() => {
        for (let i = 0; i < 40; i++) {
          const l = logits(contextOf(text), 1);
          const next = chars[F.argmax(l, -1)[0]!]!;
          if (next === '\n') break;
          text += next;
        }
      });
      return text;
    };

    showGuesses('before training');
    process.stdout.write(`  greedy completion: "${complete()}"\n\n`);

    const opt = new AdamW(params, { lr: 3e-3, weightDecay: 0.01 });
    const B = 64;
    const t0 = performance.now();
    for (let step = 1; step <= steps; step++) {
      const contexts = new Int32Array(B * ctx);
      const targets = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        const pos = 1 + rng.int(ids.length - 1);
        for (let j = 0; j < ctx; j++) {
          const at = pos - ctx + j;
          contexts[b * ctx + j] = at >= 0 ? ids[at]! : stoi.get(' ')!;
        }
        targets[b] = ids[pos]!;
      }
      const loss = F.crossEntropy(logits(contexts, B), targets);
      opt.zeroGrad();
      loss.backward();
      opt.step(clipScale(params, 1).scale);
      if (step === 1 || step % 100 === 0 || step === steps) {
        const s = (performance.now() - t0) / 1000;
        process.stdout.write(`step ${String(step).padStart(4)}/${steps}  loss ${loss.item().toFixed(4)}  ${(step / s).toFixed(0)} steps/s\n`);
      }
    }
    process.stdout.write('\n');
    showGuesses('after training');
    process.stdout.write(`  greedy completion: "${complete()}"\n`);
  },
};
