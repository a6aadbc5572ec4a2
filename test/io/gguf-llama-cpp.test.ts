/**
 * The GGUF proof with llama.cpp itself (node-llama-cpp's prebuilt CPU binaries): a tiny GPT-2 and a tiny Llama
 * (grouped-query attention, so the query/key row permutation and head_count_kv are exercised) are trained for a
 * few steps on a corpus with a BPE tokenizer trained in the test, exported as f32, f16 and q8_0 GGUF, and loaded by
 * llama.cpp; an untied bias-free GPT-2, a tied Llama with q/k/v biases, a Llama with head size 8 != 64 / 4 and
 * llama3 RoPE scaling (f32 and q8_0: rope_freqs.weight, key_length) and one with linear scaling are checked too. Its greedy continuation of 32 tokens must equal llmforge's own greedy `generate` token for token for
 * f32; for f16 and q8_0 the first 8 tokens must match and at least 24 of 32 (rounding may flip a late near-tie).
 * llama.cpp's tokenizer, reading our tokenizer metadata, must also give our ids and text back, for the GPT-2
 * pre-tokenizer and for the GPT-4 style one (written as llama.cpp's "llama-bpe").
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, type Llama, type Token } from 'node-llama-cpp';
import { exportGguf, type GgufExportType } from '../../src/export/gguf/export-gguf.ts';
import { generate } from '../../src/generate/generate.ts';
import type { ModelConfig } from '../../src/models/model.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import { Rng } from '../../src/tensor/random.ts';
import { trainBpe, WordCounter } from '../../src/tokenizer/train-bpe.ts';
import { CORPUS, trainedModel, trainTokenizer } from './gguf-fixture.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const TOKENIZE_TEXTS = [
  'The sun rises in the east.',
  'Bread and honey, at noon!',
  ' two  spaces\nand a newline',
  "It's 12345 o'clock; we'll see",
  'naïve café — ok?',
];

const dir = tempDir('gguf-llama-cpp');
const tok = trainTokenizer();
let llama: Llama | null = null;

async function runtime(): Promise<Llama> {
  // build: 'never' uses the shipped binary only; one thread (the machine is shared, and spinning threads stall).
  llama ??= await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  return llama;
}

after(async () => {
  await llama?.dispose();
});

/** llama.cpp's greedy continuation of `prompt` (n tokens) for the GGUF file at `path`. */
async function llamaCppGreedy(
  path: string,
  prompt: readonly number[],
  n: number,
): Promise<{
  ids: number[];
  tokenize: (s: string) => number[];
  detokenize: (ids: number[]) => string;
  dispose: () => Promise<void>;
}> {
  const model = await (await runtime()).loadModel({ modelPath: path });
  const ctx = await model.createContext({ contextSize: 64, threads: 1 });
  const ids: number[] = [];
  for await (const t of ctx.getSequence().evaluate(prompt as Token[], { temperature: 0 })) {
    ids.push(t);
    if (ids.length === n) break;
  }
  return {
    ids,
    tokenize: (s) => model.tokenize(s).map(Number),
    detokenize: (x) => model.detokenize(x as Token[]),
    dispose: async () => {
      await ctx.dispose();
      await model.dispose();
    },
  };
}

const CASES: { label: string; arch: 'gpt2' | 'llama'; overrides: Partial<ModelConfig>; types: GgufExportType[] }[] = [
  { label: 'gpt2 (tied head)', arch: 'gpt2', overrides: {}, types: ['f32', 'f16', 'q8_0'] },
  {
    label: 'llama (4 query heads, 2 key/value heads, untied head)',
    arch: 'llama',
    overrides: {},
    types: ['f32', 'f16', 'q8_0'],
  },
  {
    label: 'gpt2 untied head, no biases',
    arch: 'gpt2',
    overrides: { tieEmbeddings: false, bias: false },
    types: ['f32'],
  },
  {
    label: 'llama tied head, q/k/v biases',
    arch: 'llama',
    overrides: { tieEmbeddings: true, qkvBias: true },
    types: ['f32'],
  },
  // Scalings that change this model's greedy text when dropped, so the match proves llama.cpp applies them.
  {
    label: 'llama head size 8 (not 64 / 4), llama3 RoPE scaling',
    arch: 'llama',
    overrides: {
      headDim: 8,
      ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 16 },
    },
    types: ['f32', 'q8_0'],
  },
  {
    label: 'llama linear RoPE scaling',
    arch: 'llama',
    overrides: { ropeScaling: { type: 'linear', factor: 4 } },
    types: ['f32'],
  },
];

for (const { label, arch, overrides, types } of CASES) {
  test(`${label}: llama.cpp greedy generation from our GGUF matches llmforge's (${types.join(', ')})`, async () => {
    const model = trainedModel(arch, tok, 40, overrides);
    const prompt = tok.encode('The sun rises in');
    const ours = generate(model, prompt, { maxNewTokens: 32, temperature: 0 }).ids;
    assert.equal(ours.length, 32);
    for (const type of types) {
      const path = join(dir, `${label.replace(/\W+/g, '-')}-${type}.gguf`);
      exportGguf(model, path, { type, tokenizer: tok });
      const run = await llamaCppGreedy(path, prompt, 32);
      try {
        const same = run.ids.filter((id, i) => id === ours[i]).length;
        const shown = `${type}: llama.cpp ${JSON.stringify(tok.decode(run.ids))} vs llmforge ${JSON.stringify(tok.decode(ours))}`;
        if (type === 'f32') {
          assert.deepEqual(run.ids, ours, shown);
          for (const text of TOKENIZE_TEXTS) {
            assert.deepEqual(run.tokenize(text), tok.encode(text), `tokenize ${JSON.stringify(text)}`);
          }
          assert.equal(run.detokenize(ours), tok.decode(ours));
        } else {
          assert.deepEqual(run.ids.slice(0, 8), ours.slice(0, 8), shown);
          assert.ok(same >= 24, `${same}/32 tokens agree; ${shown}`);
        }
      } finally {
        await run.dispose();
      }
    }
  });
}

test("the GPT-4 style pre-tokenizer (cl100k) is written as llama.cpp's llama-bpe and tokenizes the same", async () => {
  const wc = new WordCounter('cl100k');
  wc.add(CORPUS + TOKENIZE_TEXTS.join('\n').repeat(3));
  const cl = trainBpe(wc.counts, { vocabSize: 340, pretokenizer: 'cl100k', specialTokens: ['<|endoftext|>'] });
  const model = createModel(
    completeModelConfig({ arch: 'llama', vocabSize: cl.vocabSize, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 32 }),
    new Rng(1),
  );
  const path = join(dir, 'cl100k.gguf');
  exportGguf(model, path, { tokenizer: cl });
  const run = await llamaCppGreedy(path, [1], 1);
  try {
    for (const text of TOKENIZE_TEXTS)
      assert.deepEqual(run.tokenize(text), cl.encode(text), `tokenize ${JSON.stringify(text)}`);
  } finally {
    await run.dispose();
  }
});
