/**
 * The bad-input table: every command and subcommand of the CLI, each flag given values a user could mistype
 * (negative, zero where zero means nothing, not a number, huge, an unknown word, a missing file, a directory where
 * a file belongs), every other input valid. Each case must end with exactly one `error:` line on stderr that names
 * the flag (or file) at fault, no stack frames, a non-zero exit, and nothing written in its working directory (a
 * fresh empty one, with --out inside it). The cases run through the CLI's `main` in one child process
 * (helpers/cli-batch.ts), so the whole table takes seconds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { prepareData } from '../../src/data/prepare.ts';
import { type BatchCase, runCliBatch } from '../helpers/cli-batch.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { tinyAlignSetup } from '../helpers/tiny-align.ts';
import { instructionOnly, syntheticInstructions } from '../helpers/tiny-instructions.ts';
import { syntheticSms } from '../helpers/tiny-sms.ts';

interface Row extends BatchCase {
  /** A text the error line must contain (the flag or file at fault). */
  names: string;
}

const fx = tempDir('bad-input-fixtures');
const { data: prefs, base, rm } = tinyAlignSetup(fx);
const text = join(fx, 'text.txt');
writeFileSync(
  text,
  Array.from(
    { length: 40 },
    (_, i) => `the cat number ${i} sat on mat ${i * 7} and the dog ${i * 3} sat on a log.`,
  ).join('\n\n'),
);
const sft = join(fx, 'sft.jsonl');
writeFileSync(
  sft,
  `${instructionOnly(syntheticInstructions(12))
    .map((r) => JSON.stringify(r))
    .join('\n')}\n`,
);
const sms = join(fx, 'sms.tsv');
writeFileSync(sms, `${syntheticSms(40).join('\n')}\n`);
const ds = join(fx, 'ds');
await prepareData({
  sources: [{ name: 't', path: text, paragraphs: true }],
  out: ds,
  tokenizer: 'char',
  valFraction: 0.2,
});
const aDir = join(fx, 'a-directory');
mkdirSync(aDir);
const missing = join(fx, 'no-such-file.txt');
/** Inside every case's (empty) working directory. */
const OUT = 'out';

/** `base` with `--flag value` replacing any value `base` gives the flag. */
function withFlag(argv: readonly string[], flag: string, value: string): string[] {
  const out = [...argv];
  const i = out.indexOf(`--${flag}`);
  if (i >= 0) out.splice(i, 2);
  return [...out, `--${flag}`, value];
}

const rows: Row[] = [];
/**
 * Each value of `--flag` on the command line `argv` is refused with an error naming the flag (a path: the file),
 * or `names` when given.
 */
function bad(argv: readonly string[], flag: string, values: readonly string[], names?: string): void {
  for (const v of values)
    rows.push({ argv: withFlag(argv, flag, v), names: names ?? (v.startsWith(fx) ? basename(v) : `--${flag}`) });
}
/** A whole command line that must be refused, its error containing `names`. */
function badLine(argv: string[], names: string): void {
  rows.push({ argv, names });
}

const NEG = ['-1'];
const NEG0 = ['-1', '0'];
const NOT_INT = ['1.5'];
const HUGE = ['1e12'];

// train
const train = [
  'train',
  '--data',
  ds,
  '--model',
  'char-tiny',
  '--out',
  OUT,
  '--set',
  'nLayer=1',
  'nEmbd=16',
  'nHead=2',
  'blockSize=16',
  '--steps',
  '1',
  '--batch',
  '2',
  '--eval-iters',
  '1',
  '--quiet',
];
for (const f of ['steps', 'batch', 'grad-accum', 'eval-iters', 'log-interval']) bad(train, f, [...NEG0, ...NOT_INT]);
for (const f of [
  'context',
  'warmup',
  'eval-interval',
  'checkpoint-interval',
  'keep-every',
  'keep-last',
  'sample-tokens',
  'clip',
  'weight-decay',
])
  bad(train, f, NEG);
bad(train, 'lr', ['-1', '0']);
bad(train, 'min-lr', ['-1']);
bad(train, 'peak-gflops', ['-1', '0']);
bad(train, 'batch', HUGE);
bad(train, 'batch', ['1e9']);
bad(train, 'context', HUGE);
bad(train, 'schedule', ['linear']);
bad(train, 'precision', ['fp8']);
bad(train, 'model', ['no-such-preset']);
bad(train, 'data', [missing, text]);
bad(train, 'init-from', [missing, text]);
badLine(['train', '--out', OUT, '--resume'], OUT);

// data
const prep = ['data', 'prepare', '--input', text, '--paragraphs', '--tokenizer', 'char', '--out', OUT, '--quiet'];
bad(prep, 'shard-tokens', [...NEG0, ...NOT_INT]);
bad(prep, 'val-fraction', ['-0.1', '1.5']);
bad(prep, 'train-tokens', NEG0);
bad(prep, 'min-words', NEG);
bad(prep, 'max-chars', NEG0);
bad(prep, 'max-symbol-ratio', ['2']);
bad(prep, 'near-dup-threshold', ['-1']);
bad(prep, 'val-split', ['random']);
bad(prep, 'tokenizer', [missing]);
bad(['data', 'prepare', '--tokenizer', 'char', '--out', OUT], 'mix', [missing, aDir]);
badLine(['data', 'prepare', '--input', text, '--train-tokenizer', '10', '--out', OUT, '--quiet'], '--train-tokenizer');
badLine(['data', 'prepare', '--input', missing, '--tokenizer', 'char', '--out', OUT, '--quiet'], 'no-such-file');
bad(['data', 'inspect', ds], 'tokens', [...NEG, ...NOT_INT]);
badLine(['data', 'inspect', missing], 'no-such-file');
badLine(['data', 'inspect', text], 'text.txt');
badLine(['data', 'export-llmc', missing, '--out', OUT], 'no-such-file');
badLine(['data', 'shuffle'], 'shuffle');

// tokenizer
const tokTrain = ['tokenizer', 'train', '--input', text, '--vocab-size', '300', '--out', OUT];
bad(tokTrain, 'vocab-size', ['-1', '0', '10', '100', '1.5']);
bad(tokTrain, 'min-frequency', ['-1', '0']);
bad(tokTrain, 'pretokenizer', ['bert']);
bad(tokTrain, 'input', [missing, aDir]);
bad(['tokenizer', 'encode', 'hi'], 'tokenizer', [missing, aDir]);
bad(['tokenizer', 'encode', '--tokenizer', base], 'input', [missing, aDir]);
badLine(['tokenizer', 'decode', '--tokenizer', base, '1', 'x'], 'x');
badLine(['tokenizer', 'decode', '--tokenizer', base, '99999999'], '99999999');
badLine(['tokenizer', 'frobnicate'], 'frobnicate');

// finetune
const cls = ['finetune', 'classify', '--model', base, '--data', sms, '--out', OUT, '--epochs', '1', '--quiet'];
for (const f of ['epochs', 'batch-size', 'max-length', 'last-k']) bad(cls, f, [...NEG0, ...NOT_INT]);
bad(cls, 'lr', NEG0);
bad(cls, 'weight-decay', NEG);
bad(cls, 'val-frac', ['-0.1', '1']);
bad(cls, 'test-frac', ['-0.1', '1']);
bad(cls, 'pooling', ['max']);
bad(cls, 'balance', ['smote']);
bad(cls, 'train', ['some']);
bad(cls, 'precision', ['fp8']);
bad(cls, 'data', [missing, aDir]);
bad(cls, 'model', [missing, text]);
const sftArgs = ['finetune', 'sft', '--model', base, '--data', sft, '--out', OUT, '--steps', '1', '--quiet'];
for (const f of ['steps', 'batch-size', 'max-new-tokens']) bad(sftArgs, f, [...NEG0, ...NOT_INT]);
bad(sftArgs, 'eval-every', [...NEG, ...NOT_INT]);
bad(sftArgs, 'eval-responses', NEG);
bad(sftArgs, 'warmup', NEG);
bad(sftArgs, 'lr', NEG0);
bad(sftArgs, 'min-lr', NEG);
bad(sftArgs, 'template', ['vicuna']);
bad(sftArgs, 'train', ['head']);
bad(sftArgs, 'lora-r', NEG0);
bad([...sftArgs, '--train', 'lora'], 'lora-r', [...NEG0, ...NOT_INT]);
bad([...sftArgs, '--train', 'lora'], 'lora-alpha', NEG0);
bad([...sftArgs, '--train', 'lora'], 'lora-dropout', ['-0.1', '1']);
bad([...sftArgs, '--train', 'lora'], 'lora-targets', ['c attn']);
bad(sftArgs, 'data', [missing, aDir]);
const dom = ['finetune', 'domain', '--model', base, '--data', text, '--out', OUT, '--steps', '1', '--quiet'];
for (const f of ['steps', 'batch-size', 'eval-iters']) bad(dom, f, [...NEG0, ...NOT_INT]);
bad(dom, 'batch-size', HUGE);
bad(dom, 'eval-every', [...NEG, ...NOT_INT]);
bad(dom, 'context', [...NEG, ...NOT_INT, ...HUGE]);
bad(dom, 'stride', [...NEG, ...NOT_INT]);
bad(dom, 'warmup', NEG);
bad(dom, 'general', [missing]);
bad(dom, 'val', [missing]);
badLine(['finetune', 'pretrain'], 'pretrain');

// reward, dpo, ppo
const rw = ['reward', 'train', '--model', base, '--data', prefs, '--out', OUT, '--quiet'];
for (const f of ['epochs', 'batch-size', 'max-length', 'last-k']) bad(rw, f, [...NEG0, ...NOT_INT]);
bad(rw, 'eval-every', NEG);
bad(rw, 'val-frac', ['-0.1', '1']);
bad(rw, 'lr', NEG0);
bad(rw, 'template', ['vicuna']);
bad(rw, 'train', ['some']);
bad(rw, 'data', [missing, aDir]);
bad(['reward', 'score', '--model', rm, '--prompt', 'hi', '--response', 'there'], 'batch-size', NEG0);
bad(['reward', 'score', '--model', rm], 'input', [missing, aDir]);
badLine(['reward', 'score', '--model', base, '--prompt', 'hi', '--response', 'x'], base);
const dpo = ['dpo', '--model', base, '--data', prefs, '--out', OUT, '--steps', '1', '--quiet'];
for (const f of ['steps', 'batch-size', 'max-length']) bad(dpo, f, [...NEG0, ...NOT_INT]);
bad(dpo, 'eval-every', NEG);
bad(dpo, 'beta', NEG0);
bad(dpo, 'label-smoothing', ['-0.1', '0.5']);
bad(dpo, 'loss', ['hinge']);
bad(dpo, 'val-frac', ['-0.1', '1']);
bad(dpo, 'lr', NEG0);
bad(dpo, 'data', [missing, aDir]);
const ppo = [
  'ppo',
  '--model',
  base,
  '--reward-model',
  rm,
  '--prompts',
  prefs,
  '--out',
  OUT,
  '--iterations',
  '1',
  '--batch-size',
  '2',
  '--mini-batch-size',
  '2',
  '--quiet',
];
for (const f of ['iterations', 'batch-size', 'mini-batch-size', 'ppo-epochs', 'max-new-tokens'])
  bad(ppo, f, [...NEG0, ...NOT_INT]);
for (const f of ['kl-coef', 'sample-every', 'save-every', 'val-prompts', 'top-k']) bad(ppo, f, NEG);
bad(ppo, 'temperature', NEG0);
bad(ppo, 'top-p', ['0', '1.5']);
bad(ppo, 'gamma', ['-0.1', '1.5']);
bad(ppo, 'lambda', ['-0.1', '1.5']);
bad(ppo, 'clip-range', NEG0);
bad(ppo, 'target-kl', NEG0);
bad(ppo, 'lr', NEG0);
bad(ppo, 'reward-model', [missing]);
bad(ppo, 'reward-model', [base], 'not a reward model');
bad(ppo, 'prompts', [missing, aDir]);

// use a model
bad(['generate', '--model', base, 'hi', '--max-tokens', '2'], 'max-tokens', [...NEG, ...NOT_INT]);
const gen = ['generate', '--model', base, 'hi', '--max-tokens', '2'];
bad(gen, 'temperature', NEG);
bad(gen, 'top-k', [...NEG, ...NOT_INT]);
bad(gen, 'top-p', ['0', '1.5']);
bad(gen, 'repetition-penalty', NEG0);
bad(gen, 'decode-precision', ['fp8']);
bad(gen, 'model', [missing, text]);
const chat = ['chat', '--model', base];
bad(chat, 'temperature', NEG);
bad(chat, 'max-tokens', [...NEG0, ...NOT_INT]);
bad(chat, 'template', ['vicuna']);
bad(chat, 'model', [missing]);
const serve = ['serve', '--model', base, '--quiet'];
bad(serve, 'port', ['-1', '70000', '1.5']);
bad(serve, 'max-new-tokens', [...NEG0, ...NOT_INT]);
bad(serve, 'template', ['vicuna']);
bad(serve, 'model', [missing]);
bad(serve, 'cors-origin', ['localhost:3000', 'http://localhost:3000/']);
bad(serve, 'model-name', ['']);
bad(['predict', '--model', base, 'hi'], 'top', [...NEG0, ...NOT_INT]);
bad(['predict', 'hi'], 'model', [missing, text]);
bad(['classify', '--model', base, 'hi'], 'model', [missing]);
const ppl = ['eval', 'ppl', '--model', base, '--text', text, '--quiet'];
bad(ppl, 'context', [...NEG0, ...NOT_INT, ...HUGE]);
bad(ppl, 'stride', [...NEG0, '1e6']);
bad(ppl, 'text', [missing, aDir]);
bad(['eval', 'mc', '--model', base, '--data', 'toy-world', '--quiet'], 'batch-size', NEG0);
bad(['eval', 'mc', '--model', base, '--quiet'], 'data', [missing, aDir]);
bad(['eval', 'facts', '--model', base, '--quiet'], 'facts', [missing, aDir]);
bad(['eval', 'judge', '--reward-model', rm, '--quiet'], 'responses', [missing, aDir]);
badLine(['eval', 'bleu'], 'bleu');

// models, formats, estimates
const info = ['info', '--model', 'char-tiny'];
bad(info, 'batch', [...NEG0, ...NOT_INT]);
bad(info, 'seq', [...NEG0, ...NOT_INT]);
bad(info, 'model', ['no-such-preset', text]);
badLine(['info', '--model', 'char-tiny', '--set', 'nLayer=-1'], 'nLayer');
badLine(['info', '--model', 'char-tiny', '--set', 'bogus=1'], 'bogus');
const est = ['estimate', '--params', '1e6', '--tokens', '1e9'];
bad(est, 'params', NEG0, 'parameters');
bad(est, 'tokens', NEG0);
bad(est, 'mfu', ['0', '1.5']);
bad(est, 'gpus', [...NEG0, ...NOT_INT], 'device count');
bad(est, 'price-per-hour', NEG);
bad(est, 'hardware', ['tpu']);
bad(est, 'precision', ['fp8']);
const exp = ['export', '--model', base, '--format', 'gguf', '--out', join(OUT, 'm.gguf')];
bad(exp, 'format', ['onnx']);
bad(exp, 'type', ['q4_0']);
bad(['export', '--model', base, '--format', 'hf', '--out', OUT], 'dtype', ['f64']);
bad(exp, 'model', [missing]);
bad(['import', '--format', 'gguf', text, '--out', OUT], 'format', ['onnx']);
badLine(['import', '--format', 'gguf', missing, '--out', OUT], 'no-such-file');
badLine(['import', '--format', 'gguf', aDir, '--out', OUT], 'a-directory');
badLine(['import', '--format', 'llmc', text, '--out', OUT, '--tokenizer', missing], 'text.txt');
badLine(['pull', 'not a name', '--offline'], 'not a name');
badLine(['pull', 'owner/name', '--offline', '--cache-dir', text], 'owner/name');

// recipes
const bomb = join(fx, 'bomb.yaml');
const level = (k: number) =>
  `l${k}: &l${k} [${Array(9)
    .fill(k === 0 ? '"lol"' : `*l${k - 1}`)
    .join(', ')}]`;
writeFileSync(
  bomb,
  `${Array.from({ length: 9 }, (_, k) => level(k)).join('\n')}\nstages:\n  - {name: a, type: show}\n`,
);
badLine(['run', bomb, '--dry-run'], 'bomb.yaml');
const noStages = join(fx, 'no-stages.yaml');
writeFileSync(noStages, 'out: x\nstages: []\n');
badLine(['run', noStages, '--dry-run'], 'at least one stage');
badLine(['run', missing], 'no-such-file');
badLine(['run', aDir], 'a-directory');
badLine(['start', '--from-stage', 'no-such-stage', '--dry-run'], 'no-such-stage');
badLine(['start', '--set', 'bogus', '--dry-run'], 'bogus');
badLine(['bench', 'nothing'], 'nothing');

/**
 * Whether the error line names `what`: a flag `--max-tokens` counts as named by itself, by its key `maxTokens` (the
 * name the run options, --set and recipes share) or by its words `max tokens`.
 */
function names(err: string, what: string): boolean {
  if (err.includes(what)) return true;
  if (!what.startsWith('--')) return false;
  const flag = what.slice(2);
  const camel = flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return err.includes(camel) || err.toLowerCase().includes(flag.replaceAll('-', ' '));
}

const results = runCliBatch(rows);

test(`bad-input table: ${rows.length} command lines, each one error line naming the fault, nothing written`, () => {
  const failures: string[] = [];
  results.forEach((r, i) => {
    const row = rows[i]!;
    const err = r.stderr.trimEnd();
    const problems: string[] = [];
    if (r.code === 0 || r.code === null) problems.push(`exit ${r.code}`);
    if (err.includes('    at ')) problems.push('stack trace');
    else if (err.split('\n').length !== 1 || !err.startsWith('error: ')) problems.push('not one error line');
    else if (!names(err, row.names)) problems.push(`does not name ${row.names}`);
    if (r.written.length > 0) problems.push(`wrote ${r.written.join(', ')}`);
    if (problems.length > 0)
      failures.push(
        `${r.argv.join(' ').replaceAll(fx, '<fx>')}\n    ${problems.join('; ')}: ${err.split('\n').slice(0, 3).join(' | ').replaceAll(fx, '<fx>').slice(0, 300)}`,
      );
  });
  assert.equal(failures.length, 0, `${failures.length} of ${rows.length} cases failed:\n${failures.join('\n')}`);
});
