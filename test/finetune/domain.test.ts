/**
 * Domain adaptation end to end on a tiny random base with a character tokenizer: the held-out domain text's
 * perplexity falls after a short run, the report file carries every field (and agrees with an independent
 * measurement of the saved model), the output directory loads as a model, a resumed run continues to the new step
 * count, and the domain/val split and user mistakes behave as documented.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { textPerplexity } from '../../src/eval/perplexity.ts';
import { adaptDomain, splitDomainText, type DomainOptions } from '../../src/finetune/domain.ts';
import type { DomainReport } from '../../src/finetune/domain-report.ts';
import { formatDomainReport } from '../../src/finetune/domain-report.ts';
import { loadModelDir } from '../../src/generate/model-dir.ts';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../src/train/config.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { UserError } from '../../src/util/user-error.ts';

const DOMAIN = 'the cat sat on the mat. the dog sat on the log. a cat and a dog sat on a mat. '.repeat(30);
const GENERAL = 'one two three four five six seven eight nine ten. '.repeat(8);

function setup(): { dir: string; base: string; domain: string; general: string } {
  const dir = tempDir('domain');
  const tok = CharTokenizer.fromText(DOMAIN + GENERAL);
  const base = join(dir, 'base');
  saveModel(
    base,
    createModel(
      resolveModelConfig({
        arch: 'gpt2',
        vocabSize: tok.vocabSize,
        blockSize: 32,
        nLayer: 1,
        nHead: 2,
        nEmbd: 32,
        dropout: 0,
      }),
      new Rng(2),
    ),
  );
  saveTextTokenizer(base, tok);
  const domain = join(dir, 'domain.txt');
  const general = join(dir, 'general.txt');
  writeFileSync(domain, DOMAIN);
  writeFileSync(general, GENERAL);
  return { dir, base, domain, general };
}

function config(steps: number): TrainConfig {
  return {
    ...DEFAULT_TRAIN_CONFIG,
    steps,
    batchSize: 8,
    context: 32,
    lr: 3e-3,
    minLr: 3e-4,
    warmup: 2,
    evalInterval: 0,
    evalIters: 2,
    logInterval: 10,
    samplePrompt: '',
  };
}

function options(
  s: ReturnType<typeof setup>,
  out: string,
  steps: number,
  extra: Partial<DomainOptions> = {},
): DomainOptions {
  return {
    base: s.base,
    data: [s.domain],
    general: s.general,
    out,
    config: config(steps),
    valFraction: 0.2,
    quiet: true,
    ...extra,
  };
}

test('domain run: domain perplexity falls; report fields; the output loads and matches the report; resume', async () => {
  const s = setup();
  const out = join(s.dir, 'run');
  const { report, stopped, step } = await adaptDomain(options(s, out, 30));
  assert.equal(stopped, false);
  assert.equal(step, 30);
  assert.ok(report);
  assert.ok(
    report.domain.after.ppl < 0.6 * report.domain.before.ppl,
    `domain ppl ${report.domain.before.ppl} -> ${report.domain.after.ppl}`,
  );
  assert.equal(report.domain.pplChange, report.domain.after.ppl / report.domain.before.ppl - 1);

  const saved = JSON.parse(readFileSync(join(out, 'domain-report.json'), 'utf8')) as DomainReport;
  assert.deepEqual(saved, JSON.parse(JSON.stringify(report)));
  assert.equal(saved.format, 'llmforge-domain-report');
  assert.deepEqual(
    Object.keys(saved).sort(),
    ['base', 'domain', 'eval', 'format', 'general', 'model', 'training'].sort(),
  );
  assert.deepEqual(saved.eval, { context: 32, stride: 32 });
  assert.equal(saved.training.steps, 30);
  assert.equal(saved.training.trainTokens, DOMAIN.slice(0, Math.floor(DOMAIN.length * 0.8)).trimEnd().length); // data prepare trims whitespace
  assert.equal(saved.domain.text, `tail 20% of ${s.domain}`);
  assert.equal(saved.general?.text, s.general);
  for (const b of [saved.domain, saved.general!]) {
    for (const m of [b.before, b.after])
      assert.deepEqual(Object.keys(m).sort(), ['bitsPerByte', 'meanNll', 'ppl', 'tokens']);
  }
  assert.equal(saved.domain.before.tokens, Math.ceil(DOMAIN.length * 0.2) - 1);
  assert.equal(saved.base, s.base);

  // The output directory is a model directory for generate/predict/chat; its perplexity is the report's "after".
  const after = loadModelDir(out);
  assert.equal(after.modelDir, saved.model);
  const val = readFileSync(join(out, 'data', 'domain-val.txt'), 'utf8');
  assert.equal(val, DOMAIN.slice(Math.floor(DOMAIN.length * 0.8)));
  const again = textPerplexity(after.model, after.tokenizer, val, { context: 32 });
  assert.ok(Math.abs(again.ppl - saved.domain.after.ppl) < 1e-9 * saved.domain.after.ppl);
  const table = formatDomainReport(saved);
  assert.match(table, /^domain +tail 20% of .*->/m);
  assert.match(table, /^general +.*general\.txt/m);

  // Resume: the run continues from its latest checkpoint to the new step count and reuses the base's numbers.
  const more = await adaptDomain(options(s, out, 40, { resume: true }));
  assert.equal(more.step, 40);
  assert.deepEqual(more.report!.domain.before, saved.domain.before);
  await assert.rejects(
    adaptDomain(options(s, out, 50, { resume: true, valFraction: 0.3 })),
    /the domain split differs from the run being resumed/,
  );
  // Without --resume an existing run is not overwritten.
  const before = readFileSync(join(out, 'data', 'domain-train.txt'), 'utf8');
  await assert.rejects(
    adaptDomain(options(s, out, 40, { valFraction: 0.3 })),
    /already has a checkpoint; pass --resume/,
  );
  assert.equal(
    readFileSync(join(out, 'data', 'domain-train.txt'), 'utf8'),
    before,
    'the refused run left the data alone',
  );
});

test('no general text: domain only; --val file instead of the tail split', async () => {
  const s = setup();
  const valFile = join(s.dir, 'val.txt');
  writeFileSync(valFile, 'a dog sat on the log. the cat sat on a mat. '.repeat(3));
  const out = join(s.dir, 'run2');
  const { general: _g, ...rest } = options(s, out, 4);
  const { report } = await adaptDomain({ ...rest, val: valFile });
  assert.equal(report!.general, null);
  assert.equal(report!.domain.text, valFile);
  assert.equal(report!.training.trainTokens, DOMAIN.trimEnd().length);
  assert.match(formatDomainReport(report!), /no general text given/);
  assert.ok(existsSync(join(out, 'checkpoints', 'latest', 'config.json')));
});

test('split and one-line user errors', async () => {
  const split = splitDomainText([{ label: 'a', source: 'a.txt', text: 'abcdefghij' }], null, 0.3);
  assert.deepEqual([split.train, split.val], ['abcdefg', 'hij']);
  const s = setup();
  const out = join(s.dir, 'bad');
  const fails = async (extra: Partial<DomainOptions>, re: RegExp): Promise<void> => {
    await assert.rejects(
      adaptDomain({ ...options(s, out, 2), ...extra }),
      (e: Error) => e instanceof UserError && re.test(e.message),
    );
  };
  await fails({ data: [join(s.dir, 'missing.txt')] }, /--data .*missing\.txt: cannot read the file \(no such file\)/);
  const empty = join(s.dir, 'empty.txt');
  writeFileSync(empty, '\n  \n');
  await fails({ data: [empty] }, /--data .*empty\.txt: the text is empty/);
  await fails({ general: join(s.dir, 'nope.txt') }, /--general .*nope\.txt: cannot read/);
  await fails({ config: { ...config(2), context: 64 } }, /--context 64 exceeds the base's context length 32/);
  await fails(
    { valFraction: 0.001 },
    /held-out domain text .* has \d+ tokens, fewer than context \+ 1 = 33; raise --val-frac/,
  );
  assert.equal(existsSync(join(out, 'checkpoints')), false);
});
