/**
 * `llmforge doctor` end to end: the text report's lines (bf16 features and what `--precision auto` resolves to),
 * --json as one object agreeing with src/train/precision.ts in this process, LLMFORGE_MATMUL and the reference
 * backend deciding auto, and a bad LLMFORGE_MATMUL shown instead of crashing the report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpuInfo } from '../../src/backend/index.ts';
import { detectBf16 } from '../../src/train/precision.ts';

interface DoctorJson {
  backend: string;
  amxBf16: boolean;
  avx512bf16: boolean;
  precision: { auto: string; why: string };
}

function doctor(env: Record<string, string>, ...args: string[]) {
  const base = { ...process.env };
  delete base.LLMFORGE_MATMUL;
  return spawnSync(process.execPath, ['bin/llmforge.js', 'doctor', ...args], {
    encoding: 'utf8',
    env: { ...base, ...env },
  });
}

test('doctor prints the bf16 features and what --precision auto resolves to, one line each', () => {
  const r = doctor({});
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^avx512bf16 +(true|false)$/m);
  assert.match(r.stdout, /^amxBf16 +(true|false)$/m);
  assert.match(r.stdout, /^precision +auto -> (bf16|fp32) \(.+\)$/m);
});

test('doctor --json: bf16 features from the addon, auto precision as a training run would resolve it', () => {
  const r = doctor({}, '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 1);
  const out = JSON.parse(r.stdout) as DoctorJson;
  const cpu = cpuInfo();
  assert.equal(out.amxBf16, cpu?.amxBf16 ?? false);
  assert.equal(out.avx512bf16, cpu?.avx512bf16 ?? false);
  const cap = detectBf16();
  assert.deepEqual(out.precision, { auto: cap.fast ? 'bf16' : 'fp32', why: cap.via });
  const text = doctor({}).stdout;
  assert.ok(text.includes(`precision   auto -> ${out.precision.auto} (${cap.via})\n`), text);
});

test('doctor: LLMFORGE_MATMUL and the reference backend decide auto; a bad LLMFORGE_MATMUL is reported, not thrown', () => {
  const env = JSON.parse(doctor({ LLMFORGE_MATMUL: 'fp32' }, '--json').stdout) as DoctorJson;
  assert.deepEqual(env.precision, { auto: 'fp32', why: 'LLMFORGE_MATMUL=fp32' });
  const ref = JSON.parse(doctor({ LLMFORGE_BACKEND: 'reference' }, '--json').stdout) as DoctorJson;
  assert.equal(ref.backend, 'reference');
  assert.deepEqual(ref.precision, { auto: 'fp32', why: 'the reference backend has no native bf16 kernels' });
  const bad = doctor({ LLMFORGE_MATMUL: 'fp16' });
  assert.equal(bad.status, 0, bad.stderr);
  assert.match(
    bad.stdout,
    /^precision +auto -> invalid \(LLMFORGE_MATMUL: expected one of fp32, bf16, received 'fp16'\)$/m,
  );
});
