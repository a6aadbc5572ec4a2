/**
 * `prepareData`: raw text sources in, a dataset directory out (token shards, meta.json, the tokenizer). Three
 * streamed passes keep memory bounded: (1) read, clean and split every document by a seeded hash of its text,
 * spooling the kept text to temporary files (and counting words when a tokenizer is to be trained); (2) tokenize
 * validation documents straight into val shards and each source's training documents into a token spool; (3) plan
 * the mixture and write the training shards from the spools, repeating or subsampling documents per source and
 * interleaving them in a seeded random order. meta.json is written last.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng, shuffleInPlace } from '../tensor/random.ts';
import { CharTokenizer } from '../tokenizer/char.ts';
import {
  encodeDocument,
  eosId,
  loadTextTokenizer,
  saveTextTokenizer,
  type TextTokenizer,
} from '../tokenizer/text-tokenizer.ts';
import { WordCounter, trainBpe } from '../tokenizer/train-bpe.ts';
import { writeJsonAtomic } from '../util/atomic.ts';
import { Progress } from '../util/progress.ts';
import { Cleaner, resolveCleanOptions, type CleanConfig, type CleanOptions } from './clean.ts';
import { DataError } from './errors.ts';
import { META_FILE, META_FORMAT, type DatasetMeta, type SourceReport, type SplitMeta } from './meta.ts';
import { planMixture, sampleDocuments } from './mixture.ts';
import { dtypeFor, ShardWriter } from './shards.ts';
import { readFileDocuments, sourceFiles, type SourceSpec } from './sources.ts';
import { Spool } from './spool.ts';

/**
 * Where `--tokenizer gpt2` finds OpenAI's GPT-2 files: $LLMFORGE_GPT2_TOKENIZER, else ../shared/data/gpt2-tokenizer
 * beside the working directory or beside the repository (nothing is downloaded here).
 */
export function gpt2TokenizerPath(): string {
  const env = process.env.LLMFORGE_GPT2_TOKENIZER;
  if (env !== undefined && env !== '') return env;
  const candidates = [
    '../shared/data/gpt2-tokenizer',
    fileURLToPath(new URL('../../../shared/data/gpt2-tokenizer', import.meta.url)),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined)
    throw new DataError(
      `--tokenizer gpt2: the GPT-2 tokenizer files are not in ${candidates.join(' or ')}; set LLMFORGE_GPT2_TOKENIZER to a directory holding encoder.json + vocab.bpe or tokenizer.json`,
    );
  return found;
}

export type ValSplit = 'document' | 'tail';

export interface PrepareOptions {
  sources: SourceSpec[];
  /** Output dataset directory. */
  out: string;
  /** A tokenizer directory, "gpt2", "char" (built from the cleaned text) or a tokenizer; ignored with trainTokenizer. */
  tokenizer?: string | TextTokenizer;
  /** Train a byte-level BPE tokenizer of this vocabulary size (with <|endoftext|>) on the cleaned training text. */
  trainTokenizer?: number;
  /** Fraction of documents held out for validation (default 0.05). */
  valFraction?: number;
  /**
   * How validation text is held out: whole documents chosen by a seeded hash of their text ('document'), or 'tail',
   * the last valFraction of every document's characters (the classic split of a single-file corpus such as
   * tinyshakespeare: first 90% train, last 10% validation). Left out: 'document', unless no whole document lands
   * in validation (a single file, a handful of documents), when the split falls back to 'tail' with a warning
   * rather than writing an empty validation split that training would stop on.
   */
  valSplit?: ValSplit;
  /** Seed of the split, the mixture sampling and the document order (default 1). */
  seed?: number;
  /** Training tokens to write (default: all available, reweighted by the mixture). */
  trainTokens?: number;
  /** Tokens per shard file (default 100,000,000). */
  shardTokens?: number;
  /** Cleaning options; anything left out takes its default (see DEFAULT_CLEAN). */
  clean?: CleanConfig;
  /** Progress lines on stderr (default false). */
  progress?: boolean;
  /** Receives warnings (default: stderr). */
  warn?: (message: string) => void;
}

export interface PrepareReport {
  out: string;
  meta: DatasetMeta;
  seconds: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A uniform number in [0, 1) from the seed and the text: the same document always lands in the same split. */
function splitDraw(seed: number, text: string): number {
  return createHash('sha1').update(`${seed}\u0000`).update(text).digest().readUInt32LE(0) / 2 ** 32;
}

/** Splits text at the character (code point) index floor(length * (1 - fraction)) into [head, tail]. */
export function splitTail(text: string, fraction: number): [string, string] {
  if (fraction <= 0) return [text, ''];
  let cut = Math.floor(text.length * (1 - fraction));
  // Never cut a surrogate pair in half.
  const code = text.charCodeAt(cut - 1);
  if (cut > 0 && code >= 0xd800 && code <= 0xdbff) cut++;
  return [text.slice(0, cut), text.slice(cut)];
}

function resolveTokenizer(spec: string | TextTokenizer | undefined, chars: Set<string>): TextTokenizer {
  if (spec === undefined)
    throw new DataError('data prepare: choose a tokenizer (--tokenizer <dir>|gpt2|char or --train-tokenizer N)');
  if (typeof spec !== 'string') return spec;
  if (spec === 'char') return new CharTokenizer([...chars].sort());
  return loadTextTokenizer(spec === 'gpt2' ? gpt2TokenizerPath() : spec);
}

/**
 * Clears what an earlier prepare left in `out`: shards, meta.json, spool directories, and the temporary files of
 * a prepare that was killed (`.train-00000.bin.tmp-<pid>`, `.meta.json.tmp-<pid>-<n>`). A fresh prepare replaces
 * the whole dataset, so no file of an earlier one, finished or not, is worth keeping.
 */
function removeOldOutput(out: string): void {
  rmSync(join(out, META_FILE), { force: true });
  for (const name of readdirSync(out)) {
    if (/^(train|val)-\d{5}\.bin$/.test(name) || name.startsWith('.prepare-') || /^\..+\.tmp-\d+(-\d+)?$/.test(name))
      rmSync(join(out, name), { recursive: true, force: true });
  }
}

interface SourceState {
  spec: SourceSpec;
  files: string[];
  documents: number;
  kept: number;
  trainText: Spool;
  valText: Spool;
  trainDocs: number;
  valDocs: number;
  /** Per training document: tokens (separator included) and offset in the token spool. */
  docTokens: number[];
  docBytes: number[];
  docOffsets: number[];
  tokens: Spool | null;
  valTokens: number;
}

export async function prepareData(opts: PrepareOptions): Promise<PrepareReport> {
  const t0 = performance.now();
  const valFraction = opts.valFraction ?? 0.05;
  const seed = opts.seed ?? 1;
  let valSplit: ValSplit = opts.valSplit ?? 'document';
  if (valSplit !== 'document' && valSplit !== 'tail')
    throw new DataError(
      `data prepare: the validation split must be document or tail, received ${JSON.stringify(valSplit)}`,
    );
  const shardTokens = opts.shardTokens ?? 100_000_000;
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  if (!(valFraction >= 0 && valFraction < 1))
    throw new DataError(`data prepare: the validation fraction must be in [0, 1), received ${valFraction}`);
  if (opts.sources.length === 0) throw new DataError('data prepare: no input sources');
  if (opts.trainTokenizer !== undefined && !(Number.isInteger(opts.trainTokenizer) && opts.trainTokenizer >= 257)) {
    throw new DataError(
      `data prepare: --train-tokenizer expects a vocabulary size of at least 257, received ${opts.trainTokenizer}`,
    );
  }
  if (!(Number.isInteger(shardTokens) && shardTokens >= 1))
    throw new DataError(`data prepare: the tokens per shard must be a positive integer, received ${shardTokens}`);
  if (opts.trainTokens !== undefined && !(Number.isInteger(opts.trainTokens) && opts.trainTokens >= 1))
    throw new DataError(`data prepare: the training tokens must be a positive integer, received ${opts.trainTokens}`);
  const cleanOpts: CleanOptions = resolveCleanOptions(opts.clean);
  // A tokenizer directory is read before `out` is touched, so a wrong path writes nothing.
  const given =
    typeof opts.tokenizer === 'string' && opts.tokenizer !== 'char' && opts.trainTokenizer === undefined
      ? resolveTokenizer(opts.tokenizer, new Set())
      : opts.tokenizer;
  if (opts.trainTokenizer === undefined && opts.tokenizer === undefined) resolveTokenizer(undefined, new Set());
  // Input mistakes surface before an earlier dataset in `out` is touched.
  const perSource = opts.sources.map((spec) => ({ spec, files: sourceFiles(spec) }));
  mkdirSync(opts.out, { recursive: true });
  removeOldOutput(opts.out);
  const tmp = join(opts.out, `.prepare-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  const states: SourceState[] = [];
  const writers: ShardWriter[] = [];
  try {
    // Pass 1: read, clean, split; spool the kept text.
    const cleaner = new Cleaner(cleanOpts);
    let counter = opts.trainTokenizer !== undefined ? new WordCounter('gpt2') : null;
    const chars = new Set<string>();
    const wantChars = opts.tokenizer === 'char' && opts.trainTokenizer === undefined;
    const totalKb = Math.max(
      1,
      Math.round(perSource.reduce((a, s) => a + s.files.reduce((b, f) => b + statSync(f).size, 0), 0) / 1024),
    );
    const progress = new Progress({ label: 'cleaning', total: totalKb, unit: 'KB', silent: !opts.progress });
    let readBytes = 0;
    for (const [i, { spec, files }] of perSource.entries()) {
      const st: SourceState = {
        spec,
        files,
        documents: 0,
        kept: 0,
        trainDocs: 0,
        valDocs: 0,
        docTokens: [],
        docBytes: [],
        docOffsets: [],
        tokens: null,
        valTokens: 0,
        trainText: new Spool(join(tmp, `${i}-train.txt`)),
        valText: new Spool(join(tmp, `${i}-val.txt`)),
      };
      states.push(st);
      for (const file of files) {
        for await (const doc of readFileDocuments(file, spec)) {
          st.documents++;
          readBytes += Buffer.byteLength(doc.text);
          progress.update(Math.min(totalKb, Math.round(readBytes / 1024)));
          const r = cleaner.process(doc.text);
          if (!r.kept) continue;
          st.kept++;
          if (valSplit === 'tail') {
            const [head, tail] = splitTail(r.text, valFraction);
            if (tail !== '') {
              st.valText.append(encoder.encode(tail));
              st.valDocs++;
            }
            if (head !== '') {
              st.trainText.append(encoder.encode(head));
              st.trainDocs++;
              counter?.add(head);
            }
          } else {
            const isVal = splitDraw(seed, r.text) < valFraction;
            (isVal ? st.valText : st.trainText).append(encoder.encode(r.text));
            if (isVal) st.valDocs++;
            else {
              st.trainDocs++;
              counter?.add(r.text);
            }
          }
          if (wantChars) for (const c of r.text) chars.add(c);
        }
      }
    }
    progress.finish(totalKb);
    const oneSided = states.every((s) => s.valDocs === 0) || states.every((s) => s.trainDocs === 0);
    if (opts.valSplit === undefined && valFraction > 0 && oneSided && states.some((s) => s.kept > 0)) {
      // Too few documents for the hash to put some on each side (one text file): split every document's tail off.
      valSplit = 'tail';
      if (counter) counter = new WordCounter('gpt2');
      for (const [i, st] of states.entries()) {
        const train = new Spool(join(tmp, `${i}-train-head.txt`));
        const val = new Spool(join(tmp, `${i}-val-tail.txt`));
        st.trainDocs = 0;
        st.valDocs = 0;
        for (const spool of [st.trainText, st.valText]) {
          for (const rec of spool.records()) {
            const [head, tail] = splitTail(decoder.decode(rec), valFraction);
            if (tail !== '') {
              val.append(encoder.encode(tail));
              st.valDocs++;
            }
            if (head !== '') {
              train.append(encoder.encode(head));
              st.trainDocs++;
              counter?.add(head);
            }
          }
          spool.close();
        }
        st.trainText = train;
        st.valText = val;
      }
      const kept = states.reduce((a, s) => a + s.kept, 0);
      warn(
        `whole documents cannot be split into training and validation here (${kept} kept document${kept === 1 ? '' : 's'} at --val-fraction ${valFraction}), so the last ${valFraction} of each document is held out instead (--val-split tail); give more documents (e.g. --paragraphs) or --val-split document to change this`,
      );
    }
    const cleaning = cleaner.report();
    if (states.every((s) => s.trainDocs === 0)) {
      throw new DataError(
        `data prepare: no training documents are left (${cleaning.documents} read, ${cleaning.kept} kept after cleaning${cleaning.kept > 0 ? `, all in validation at --val-fraction ${valFraction}` : ''})`,
      );
    }

    // The tokenizer: trained on the cleaned training text, built from its characters, or loaded.
    let tok: TextTokenizer;
    if (counter) {
      tok = trainBpe(counter.counts, {
        vocabSize: opts.trainTokenizer!,
        specialTokens: ['<|endoftext|>'],
        progress: opts.progress ?? false,
      });
    } else {
      if (wantChars) chars.add('\n');
      tok = resolveTokenizer(given, chars);
    }
    // Loaded first, then replaced: the tokenizer may come from this very directory (an earlier run's output).
    rmSync(join(opts.out, 'tokenizer'), { recursive: true, force: true });
    saveTextTokenizer(join(opts.out, 'tokenizer'), tok);
    const eos = eosId(tok) ?? null;
    let separator: number[] = [];
    if (eos !== null) separator = [eos];
    else {
      try {
        separator = tok.encode('\n\n');
      } catch {
        separator = [];
      }
    }
    const encodeDoc = (text: string, where: string): number[] => {
      try {
        const ids = encodeDocument(tok, text);
        for (const s of separator) ids.push(s);
        return ids;
      } catch (e) {
        throw new DataError(`data prepare: cannot tokenize a document of ${where} (${(e as Error).message})`);
      }
    };

    // Pass 2: validation documents to shards; training documents to per-source token spools.
    const vocabSize = tok.vocabSize;
    const dtype = dtypeFor(vocabSize);
    const val: SplitMeta = { tokens: 0, bytes: 0, documents: 0, shards: [] };
    const valWriter = new ShardWriter(opts.out, 'val', vocabSize, shardTokens, dtype);
    writers.push(valWriter);
    const keptDocs = states.reduce((a, s) => a + s.kept, 0);
    const records = states.reduce((a, s) => a + s.trainDocs + s.valDocs, 0);
    const tokProgress = new Progress({ label: 'tokenizing', total: records, unit: 'docs', silent: !opts.progress });
    let done = 0;
    for (const [i, st] of states.entries()) {
      for (const rec of st.valText.records()) {
        const ids = encodeDoc(decoder.decode(rec), `source "${st.spec.name}"`);
        valWriter.write(ids);
        val.tokens += ids.length;
        val.bytes += rec.length;
        val.documents++;
        st.valTokens += ids.length;
        tokProgress.update(++done);
      }
      st.tokens = new Spool(join(tmp, `${i}-train.tok`));
      for (const rec of st.trainText.records()) {
        const ids = encodeDoc(decoder.decode(rec), `source "${st.spec.name}"`);
        st.docOffsets.push(st.tokens.write(new Uint8Array(Uint32Array.from(ids).buffer)));
        st.docTokens.push(ids.length);
        st.docBytes.push(rec.length);
        tokProgress.update(++done);
      }
      st.trainText.close();
      st.valText.close();
    }
    tokProgress.finish(done);
    val.shards = valWriter.finish();
    if (valFraction > 0 && val.documents === 0)
      warn(
        `no document fell into the validation split (${keptDocs} kept documents at --val-fraction ${valFraction}); use more documents (e.g. --paragraphs to split text files on blank lines) or --val-split tail`,
      );

    // Pass 3: the mixture plan, then the training shards in a seeded interleaved order.
    const plan = planMixture(
      states.map((s) => ({
        name: s.spec.name,
        availableTokens: s.docTokens.reduce((a, b) => a + b, 0),
        ...(s.spec.weight !== undefined ? { weight: s.spec.weight } : {}),
      })),
      opts.trainTokens,
    );
    const rng = new Rng(seed);
    const picks = plan.map((p, i) => sampleDocuments(states[i]!.docTokens, p.targetTokens, rng));
    const count = picks.reduce((a, p) => a + p.length, 0);
    const order = new Uint32Array(count);
    for (let k = 0; k < count; k++) order[k] = k;
    shuffleInPlace(order, rng);
    const starts: number[] = [];
    let acc = 0;
    for (const p of picks) {
      starts.push(acc);
      acc += p.length;
    }
    const train: SplitMeta = { tokens: 0, bytes: 0, documents: 0, shards: [] };
    const written = states.map(() => 0);
    const trainWriter = new ShardWriter(opts.out, 'train', vocabSize, shardTokens, dtype);
    writers.push(trainWriter);
    const writeProgress = new Progress({ label: 'writing', total: count, unit: 'docs', silent: !opts.progress });
    let scratch = Buffer.alloc(1 << 16);
    for (let k = 0; k < count; k++) {
      const flat = order[k]!;
      let s = 0;
      while (s + 1 < starts.length && starts[s + 1]! <= flat) s++;
      const st = states[s]!;
      const doc = picks[s]![flat - starts[s]!]!;
      const n = st.docTokens[doc]!;
      if (scratch.length < n * 4) scratch = Buffer.alloc(n * 8);
      const bytes = st.tokens!.readAt(st.docOffsets[doc]!, n * 4, scratch);
      trainWriter.write(new Uint32Array(bytes.buffer, bytes.byteOffset, n));
      train.tokens += n;
      train.bytes += st.docBytes[doc]!;
      train.documents++;
      written[s]! += n;
      writeProgress.update(k + 1);
    }
    writeProgress.finish(count);
    train.shards = trainWriter.finish();
    for (const st of states) st.tokens?.close();

    const sources: SourceReport[] = states.map((st, i) => ({
      name: st.spec.name,
      path: st.spec.path,
      files: st.files.length,
      documents: st.documents,
      kept: st.kept,
      weight: plan[i]!.weight,
      availableTokens: plan[i]!.availableTokens,
      trainTokens: written[i]!,
      epochs: plan[i]!.availableTokens > 0 ? written[i]! / plan[i]!.availableTokens : 0,
      share: train.tokens > 0 ? written[i]! / train.tokens : 0,
      valTokens: st.valTokens,
    }));
    const meta: DatasetMeta = {
      format: META_FORMAT,
      version: 1,
      vocabSize,
      dtype,
      eosId: eos,
      tokenizer: 'tokenizer',
      splits: { train, val },
      sources,
      cleaning,
      options: {
        sources: opts.sources,
        tokenizer:
          opts.trainTokenizer !== undefined
            ? `trained BPE ${opts.trainTokenizer}`
            : typeof opts.tokenizer === 'string'
              ? opts.tokenizer
              : 'given',
        valFraction,
        valSplit,
        seed,
        shardTokens,
        ...(opts.trainTokens !== undefined ? { trainTokens: opts.trainTokens } : {}),
        separator: eos !== null ? 'eos' : separator.length > 0 ? 'blank line' : 'none',
        clean: cleanOpts,
      },
    };
    writeJsonAtomic(join(opts.out, META_FILE), meta);
    return { out: opts.out, meta, seconds: (performance.now() - t0) / 1000 };
  } finally {
    for (const w of writers) w.abort();
    for (const st of states) {
      st.trainText.close();
      st.valText.close();
      st.tokens?.close();
    }
    rmSync(tmp, { recursive: true, force: true });
  }
}
