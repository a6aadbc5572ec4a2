/**
 * `llmforge finetune domain` from the command line on a tiny random base with a character tokenizer: a three-step
 * run prints the before/after table (domain and general rows) and writes the report; a missing --data file, a
 * context beyond the base's and a missing --data option are one `error:` line each.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DomainReport } from '../../src/finetune/domain-report.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { tinyCharBase } from '../helpers/tiny-char-base.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

test('finetune domain: a short run prints the table and writes the report; one-line errors', () => {
  const dir = tempDir('domain-cli');
  const { base, a, b } = tinyCharBase(dir);

  const out = join(dir, 'domain');
  const d = cli(
    'finetune',
    'domain',
    '--model',
    base,
    '--data',
    a,
    '--general',
    b,
    '--out',
    out,
    '--steps',
    '3',
    '--batch-size',
    '4',
    '--context',
    '16',
    '--eval-every',
    '0',
    '--quiet',
  );
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stdout, /^domain +tail 10% of .*a\.txt +\d[\d,]* +\S+ +-> +\S+ +[+-]\d+\.\d%/m);
  assert.match(d.stdout, /^general +.*b\.jsonl/m);
  const report = JSON.parse(readFileSync(join(out, 'domain-report.json'), 'utf8')) as DomainReport;
  assert.equal(report.training.steps, 3);
  assert.deepEqual(report.eval, { context: 16, stride: 16 });
  assert.ok(existsSync(join(out, 'checkpoints', 'latest', 'config.json')));

  const oneLine = (r: ReturnType<typeof cli>, re: RegExp): void => {
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  };
  oneLine(
    cli('finetune', 'domain', '--model', base, '--data', join(dir, 'nope.txt'), '--out', join(dir, 'x')),
    /^error: --data .*nope\.txt: cannot read the file \(no such file\)/,
  );
  oneLine(
    cli('finetune', 'domain', '--model', base, '--data', a, '--out', join(dir, 'y'), '--context', '33'),
    /^error: finetune domain: --context 33 exceeds the base's context length 32/,
  );
  oneLine(
    cli('finetune', 'domain', '--model', base, '--out', join(dir, 'z')),
    /^error: finetune domain: --data <domain text file>/,
  );
});
