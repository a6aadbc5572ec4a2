/**
 * Untrusted model files cannot take the machine: a config.json (llmforge's or Hugging Face's) or GGUF metadata
 * whose dimensions describe far more than the weights hold (`nLayer` 1e7, `blockSize` 1e12, `vocabSize` 2^31,
 * `nEmbd` 1e6, GGUF `block_count` 1e7 or `context_length` 2^31) is refused before anything is allocated, in one
 * line naming the file and the field, within a bounded time and memory (the loads run in a child process with a
 * timeout, so a regression fails instead of eating the machine). createModel refuses arrays no typed array can hold
 * and models larger than the machine's memory the same way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ggufModelMetadata, ggufTensors } from '../../src/export/gguf/export-gguf.ts';
import { GgufValueType } from '../../src/export/gguf/gguf-format.ts';
import { writeGguf } from '../../src/export/gguf/gguf-writer.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import type { ModelConfig } from '../../src/models/model.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { checkModelAllocatable } from '../../src/models/model-size.ts';
import { Rng } from '../../src/tensor/random.ts';
import { isUserError } from '../../src/util/user-error.ts';
import { writeTinyGpt2 } from '../helpers/hf-checkpoints.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const HELPER = join(import.meta.dirname, '..', 'helpers', 'load-untrusted.ts');
const small = (arch: 'gpt2' | 'llama'): ModelConfig =>
  completeModelConfig({ arch, vocabSize: 20, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16 });

interface Result {
  path: string;
  error: string | null;
  user: boolean;
  ms: number;
  rssGrowthMB: number;
}

/** Loads every path in one child (node with a 512 MB heap, killed after 60 s) and returns its results by path. */
function loadInChild(paths: string[]): Map<string, Result> {
  const r = spawnSync(process.execPath, ['--max-old-space-size=512', '--import', 'tsx', HELPER, ...paths], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.signal, null, `the loads did not finish in 60 s (killed by ${r.signal}): ${r.stdout}`);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Result);
  return new Map(lines.map((l) => [l.path, l]));
}

/** A saved llmforge model directory whose config.json has `field` set to `value`. */
function llmforgeDir(root: string, arch: 'gpt2' | 'llama', field: string, value: number): string {
  const base = join(root, `base-${arch}`);
  if (!isSaved(base)) saveModel(base, createModel(small(arch), new Rng(1)));
  const dir = join(root, `${arch}-${field}`);
  cpSync(base, dir, { recursive: true });
  const doc = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  doc.config[field] = value;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(doc));
  return dir;
}

function isSaved(dir: string): boolean {
  try {
    readFileSync(join(dir, 'config.json'));
    return true;
  } catch {
    return false;
  }
}

/** A GGUF of a small model whose llama.cpp metadata has `key` set to `value` (no llmforge.config). */
function ggufWith(root: string, arch: 'gpt2' | 'llama', key: string, value: number, ours = false): string {
  const model = createModel(small(arch), new Rng(2));
  let meta = ggufModelMetadata(model, 'f32');
  if (ours) {
    meta = meta.map((kv) =>
      kv.key === 'llmforge.config'
        ? { key: kv.key, type: GgufValueType.STRING, value: JSON.stringify({ ...model.config, [key]: value }) }
        : kv,
    );
  } else {
    meta = meta
      .filter((kv) => kv.key !== 'llmforge.config')
      .map((kv) => (kv.key === `${arch}.${key}` ? { key: kv.key, type: GgufValueType.UINT32, value } : kv));
  }
  const path = join(root, `${arch}-${key}${ours ? '-ours' : ''}.gguf`);
  writeGguf(path, meta, ggufTensors(model, 'f32'));
  return path;
}

test('oversized dimensions in config.json and GGUF metadata are refused in one line, quickly, without allocating', () => {
  const root = tempDir('model-size');
  const hf = join(root, 'hf-gpt2');
  writeTinyGpt2(hf);
  const hfDoc = JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8'));
  writeFileSync(join(hf, 'config.json'), JSON.stringify({ ...hfDoc, n_layer: 10_000_000 }));
  mkdirSync(root, { recursive: true });
  // [path, what the one-line error must say]
  const cases: [string, RegExp][] = [
    [
      llmforgeDir(root, 'gpt2', 'nLayer', 10_000_000),
      /config\.json: nLayer 10000000 is too large for the weights in model\.safetensors/,
    ],
    [llmforgeDir(root, 'llama', 'nLayer', 10_000_000), /config\.json: nLayer 10000000 is too large for the weights/],
    [llmforgeDir(root, 'gpt2', 'blockSize', 1e12), /config\.json: blockSize 1000000000000 is too large/],
    [llmforgeDir(root, 'gpt2', 'vocabSize', 2 ** 31), /config\.json: vocabSize 2147483648 is too large/],
    [llmforgeDir(root, 'gpt2', 'nEmbd', 1_000_000), /config\.json: nEmbd 1000000 is too large/],
    [
      llmforgeDir(root, 'llama', 'blockSize', 2 ** 31),
      /config\.json: blockSize 2147483648 is too large: the RoPE tables/,
    ],
    [hf, /hf-gpt2\/config\.json: n_layer 10000000 is too large for the weights in model\.safetensors/],
    [
      ggufWith(root, 'gpt2', 'block_count', 10_000_000),
      /metadata: gpt2\.block_count 10000000 is too large for the weights/,
    ],
    [ggufWith(root, 'llama', 'block_count', 10_000_000), /metadata: llama\.block_count 10000000 is too large/],
    [
      ggufWith(root, 'llama', 'context_length', 2 ** 31),
      /metadata: llama\.context_length 2147483648 is too large: the RoPE tables/,
    ],
    [ggufWith(root, 'gpt2', 'context_length', 2 ** 31), /metadata: gpt2\.context_length 2147483648 is too large/],
    [ggufWith(root, 'gpt2', 'nLayer', 10_000_000, true), /"llmforge\.config": nLayer 10000000 is too large/],
  ];
  const results = loadInChild(cases.map(([p]) => p));
  for (const [path, want] of cases) {
    const r = results.get(path)!;
    assert.ok(r.error !== null, `${path} loaded`);
    assert.ok(r.user, `${path}: not a UserError: ${r.error}`);
    assert.doesNotMatch(r.error, /\n/);
    assert.match(r.error, want);
    assert.ok(r.ms < 3000, `${path}: took ${r.ms} ms`);
    assert.ok(r.rssGrowthMB < 100, `${path}: resident memory grew by ${r.rssGrowthMB} MB`);
  }
});

test('createModel refuses arrays no typed array holds and models larger than memory, naming the field', () => {
  const cases: [Partial<ModelConfig>, RegExp][] = [
    [
      { blockSize: 1e12 },
      /blockSize 1000000000000 is too large: the position embedding \(1000000000000 x 16\) would need/,
    ],
    [{ vocabSize: 2 ** 31 }, /vocabSize 2147483648 is too large: the token embedding/],
    [{ nEmbd: 1_000_000 }, /nEmbd 1000000 is too large: each attention weight/],
  ];
  for (const [over, want] of cases) {
    const { mlpHidden: _derived, ...base } = small('gpt2');
    const cfg = completeModelConfig({ ...base, ...over });
    assert.throws(
      () => createModel(cfg, { init: false }),
      (e: Error) => isUserError(e) && want.test(e.message),
    );
  }
  const llama = { ...small('llama'), blockSize: 2 ** 31 };
  assert.throws(
    () => createModel(llama, new Rng(1)),
    /blockSize 2147483648 is too large: the RoPE tables \(2147483648 x 4\)/,
  );
  const deep = { ...small('gpt2'), nLayer: 10_000 };
  assert.throws(
    () => checkModelAllocatable(deep, 'preset x', undefined, 2 ** 20),
    /^Error: preset x: nLayer 10000 is too large: the model would need .* parameters \(.* as float32\), more than this machine's 1\.0 MiB of memory$/,
  );
  checkModelAllocatable(small('llama'), 'ok', undefined, 2 ** 20); // a small model fits
});
