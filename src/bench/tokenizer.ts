/**
 * Tokenizer benchmarks (JSON lines): GPT-2 encode throughput in MB/s on tinyshakespeare and on a mixed-script
 * text, ours beside `tiktoken` (OpenAI's Rust BPE in WebAssembly) and `gpt-tokenizer` in the same run; and BPE
 * training throughput (MB/s, seconds to the target vocabulary) on corpora built by repeating and perturbing the
 * shared text. Medians over repetitions, with min and max.
 */
import { readFileSync } from 'node:fs';
import { loadGpt2Files } from '../tokenizer/gpt2-files.ts';
import { trainBpe, WordCounter } from '../tokenizer/train-bpe.ts';
import { Rng } from '../tensor/random.ts';

const DATA = '../shared/data';

function stats(ms: number[]): { median: number; min: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
}

function timeIt(fn: () => void, reps: number): { median: number; min: number; max: number } {
  fn(); // warm-up (caches, JIT)
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return stats(ms);
}

/** About `bytes` of mixed-script text: English, accents, CJK, Cyrillic, Arabic, emoji, code and numbers. */
export function mixedText(bytes: number, seed = 1): string {
  const pieces = [
    'The quick brown fox jumps over the lazy dog. ',
    'Crème brûlée et café au lait, naïve façade. ',
    '東京は日本の首都です。中文文本处理很有趣。',
    'Привет, как дела? Всё хорошо. ',
    'مرحبا بالعالم، كيف حالك؟ ',
    'Emoji 👍🏽🎉🚀 and 👨‍👩‍👧 families. ',
    'def f(x):\n    return x ** 2 + 3.14159\n',
    'Numbers 1234567890, 3.5%, $42.00. ',
    '한국어 텍스트 처리. ',
    'Ελληνικά γράμματα. ',
    '\t\tindented  \n\n',
  ];
  const rng = new Rng(seed);
  let s = '';
  while (Buffer.byteLength(s) < bytes) s += pieces[rng.int(pieces.length)];
  return s;
}

/** `mb` megabytes of tinyshakespeare-derived text: copies with random word-level perturbations. */
export function perturbedCorpus(mb: number, seed = 1): string {
  const base = readFileSync(`${DATA}/tinyshakespeare/input.txt`, 'utf8');
  const words = base.split(/(\s+)/);
  const rng = new Rng(seed);
  const parts: string[] = [];
  let size = 0;
  while (size < mb * 1e6) {
    // Perturb about one word in five (a letter substituted, a suffix, case, reversal) so that the corpus has a
    // realistic long tail of distinct words rather than 100 copies of the same 25k.
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const out = words.map((w) => {
      if (w.trim() === '' || rng.random() > 0.2) return w;
      const r = rng.int(4);
      if (r === 0) {
        const i = rng.int(w.length);
        return w.slice(0, i) + letters[rng.int(26)] + w.slice(i + 1);
      }
      return r === 1
        ? w.toUpperCase()
        : r === 2
          ? `${w}${letters[rng.int(26)]}${letters[rng.int(26)]}`
          : [...w].reverse().join('');
    });
    const chunk = out.join('');
    parts.push(chunk);
    size += chunk.length;
  }
  return parts.join('\n');
}

function emit(json: boolean, obj: Record<string, unknown>): void {
  if (json) process.stdout.write(`${JSON.stringify(obj)}\n`);
  else
    process.stdout.write(
      `${Object.entries(obj)
        .map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(3) : v}`)
        .join(' ')}\n`,
    );
}

export async function benchTokenizer(opts: {
  json: boolean;
  reps?: number;
  trainMb?: number[];
  vocabSize?: number;
  encode?: boolean;
}): Promise<void> {
  const reps = opts.reps ?? 5;
  const ours = loadGpt2Files(`${DATA}/gpt2-tokenizer/encoder.json`, `${DATA}/gpt2-tokenizer/vocab.bpe`);
  const gptTok = await import('gpt-tokenizer/encoding/gpt2');
  const { get_encoding } = await import('tiktoken');
  const tk = get_encoding('gpt2');
  const texts: [string, string][] =
    opts.encode === false
      ? []
      : [
          ['tinyshakespeare', readFileSync(`${DATA}/tinyshakespeare/input.txt`, 'utf8')],
          ['mixed', mixedText(1_000_000)],
        ];
  for (const [name, text] of texts) {
    const mb = Buffer.byteLength(text) / 1e6;
    const impls: [string, () => unknown][] = [
      ['llmforge', () => ours.encode(text)],
      ['tiktoken', () => tk.encode(text)],
      ['gpt-tokenizer', () => gptTok.encode(text)],
    ];
    for (const [impl, fn] of impls) {
      const t = timeIt(fn, reps);
      emit(opts.json, {
        bench: 'tokenizer_encode',
        text: name,
        impl,
        mb,
        mb_per_s: mb / (t.median / 1000),
        ms_median: t.median,
        ms_min: t.min,
        ms_max: t.max,
      });
    }
  }
  tk.free();
  const vocabSize = opts.vocabSize ?? 32768;
  for (const mb of opts.trainMb ?? [10]) {
    const corpus = perturbedCorpus(mb);
    const t0 = performance.now();
    const counter = new WordCounter('gpt2');
    const step = 1 << 20;
    for (let i = 0; i < corpus.length; i += step) counter.add(corpus.slice(i, i + step));
    const tCount = performance.now();
    const tok = trainBpe(counter.counts, { vocabSize, minFrequency: 2 });
    const t1 = performance.now();
    emit(opts.json, {
      bench: 'tokenizer_train',
      mb: corpus.length / 1e6,
      vocab_size: tok.vocabSize,
      unique_words: counter.counts.size,
      count_s: (tCount - t0) / 1000,
      merge_s: (t1 - tCount) / 1000,
      total_s: (t1 - t0) / 1000,
      mb_per_s: corpus.length / 1e6 / ((t1 - t0) / 1000),
    });
  }
}
