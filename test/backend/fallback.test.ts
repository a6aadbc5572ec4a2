/**
 * When the native addon cannot be loaded, llmforge falls back to the reference backend with one loud warning
 * that names the fix; LLMFORGE_BACKEND=native turns that into a clear error instead, and LLMFORGE_REQUIRE_NATIVE=1
 * (set by CI) makes both a missing addon and a failed native build at install time an error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const script = `
  import { backend } from './src/backend/index.ts';
  import { tensor } from './src/tensor/creation.ts';
  import * as F from './src/ops/index.ts';
  const y = F.sum(F.mul(tensor([1, 2, 3]), 2));
  backend(); backend();
  console.log(JSON.stringify({ backend: backend().name, y: y.item() }));
`;

function run(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, LLMFORGE_REQUIRE_NATIVE: '', ...env },
  });
}

test('a missing addon falls back to the reference backend with one warning naming the fix', () => {
  const r = run({ LLMFORGE_ADDON: '/nonexistent/llmforge_native.node' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim()), { backend: 'reference', y: 12 });
  const warnings = r.stderr.match(/WARNING: llmforge: the native addon could not be loaded/g) ?? [];
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(r.stderr, /npm run build:native/);
});

test('LLMFORGE_BACKEND=native without the addon is a clear error', () => {
  const r = run({ LLMFORGE_ADDON: '/nonexistent/llmforge_native.node', LLMFORGE_BACKEND: 'native' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /LLMFORGE_BACKEND=native but the native addon could not be loaded/);
});

test('LLMFORGE_BACKEND=reference selects the reference backend silently', () => {
  const r = run({ LLMFORGE_BACKEND: 'reference' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout.trim()).backend, 'reference');
  assert.doesNotMatch(r.stderr, /WARNING/);
});

test('LLMFORGE_REQUIRE_NATIVE=1 without the addon fails, naming every path tried', () => {
  const r = run({ LLMFORGE_ADDON: '/nonexistent/llmforge_native.node', LLMFORGE_REQUIRE_NATIVE: '1' });
  assert.notEqual(r.status, 0);
  assert.match(
    r.stderr,
    /LLMFORGE_REQUIRE_NATIVE=1 but the native addon could not be loaded \(\/nonexistent\/llmforge_native\.node: /,
  );
  assert.doesNotMatch(r.stdout, /reference/);
});

test('a failed native build: the install goes on with a warning, or fails under LLMFORGE_REQUIRE_NATIVE=1', () => {
  const script = ['scripts/native-build-failed.mjs'];
  const lenient = spawnSync(process.execPath, script, {
    encoding: 'utf8',
    env: { ...process.env, LLMFORGE_REQUIRE_NATIVE: '' },
  });
  assert.equal(lenient.status, 0);
  assert.match(lenient.stderr, /WARNING: llmforge's native addon .* failed to build/);
  const strict = spawnSync(process.execPath, script, {
    encoding: 'utf8',
    env: { ...process.env, LLMFORGE_REQUIRE_NATIVE: '1' },
  });
  assert.equal(strict.status, 1);
  assert.match(strict.stderr, /ERROR: llmforge's native addon .* failed to build/);
});
