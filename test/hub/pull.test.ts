/**
 * Hub downloads against a local server that serves the hub's URL layout (hub-server.ts): a pull whose weights
 * transfer breaks off halfway resumes with a Range request and yields files identical to the source; a corrupted
 * download is rejected by its sha256 and leaves no file; offline mode uses only the cache (and says so when the
 * model is missing); a 401 names gated models and HF_TOKEN, and the token is sent as a Bearer header; only the
 * files a model needs are fetched; `llmforge generate --model hf://...` pulls and generates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pullModel } from '../../src/hub/pull.ts';
import { CHECKPOINTS, startHubServer } from './hub-server.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { UserError } from '../../src/util/user-error.ts';

const tmp = (): string => tempDir('hub');
const quiet = { silent: true, log: () => {} };

test('an interrupted transfer resumes with Range and the cached files equal the source', async () => {
  const server = await startHubServer({ dropFirst: ['model.safetensors'] });
  try {
    const cacheDir = tmp();
    const r = await pullModel('llmforge-test/fake_gpt2', { cacheDir, endpoint: server.endpoint, ...quiet });
    const weights = server.requests.filter((q) => q.path.endsWith('/resolve/main/model.safetensors'));
    assert.equal(weights.length, 2, 'one broken transfer, one resumed');
    assert.equal(weights[0]!.range, undefined);
    assert.match(weights[1]!.range ?? '', /^bytes=[1-9]\d*-$/, 'the second request resumes where the first stopped');
    const src = join(CHECKPOINTS, 'llmforge-test-fake_gpt2');
    for (const f of [
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'vocab.json',
      'merges.txt',
      'generation_config.json',
    ]) {
      assert.ok(readFileSync(join(r.dir, f)).equals(readFileSync(join(src, f))), f);
    }
    assert.ok(!readdirSync(r.dir).some((f) => f.endsWith('.incomplete')));
    assert.ok(
      existsSync(join(src, 'README.md')) && server.requests.every((q) => !q.path.endsWith('README.md')),
      'only the files a model needs',
    );
    assert.ok(r.downloaded > 0);
    // A second pull finds the snapshot complete and downloads nothing.
    const again = await pullModel('llmforge-test/fake_gpt2', { cacheDir, endpoint: server.endpoint, ...quiet });
    assert.equal(again.downloaded, 0);
    assert.equal(again.dir, r.dir);
  } finally {
    await server.close();
  }
});

test('a partial file left by an earlier run is resumed, not restarted', async () => {
  const server = await startHubServer();
  try {
    const cacheDir = tmp();
    const src = readFileSync(join(CHECKPOINTS, 'llmforge-test-tiny_gpt2', 'model.safetensors'));
    const snap = join(cacheDir, 'models--llmforge-test--tiny_gpt2', 'snapshots', 'a'.repeat(40));
    (await import('node:fs')).mkdirSync(snap, { recursive: true });
    writeFileSync(join(snap, 'model.safetensors.incomplete'), src.subarray(0, 1000));
    const r = await pullModel('hf://llmforge-test/tiny_gpt2', { cacheDir, endpoint: server.endpoint, ...quiet });
    const weights = server.requests.filter((q) => q.path.endsWith('/model.safetensors'));
    assert.deepEqual(
      weights.map((q) => q.range),
      ['bytes=1000-'],
    );
    assert.ok(readFileSync(join(r.dir, 'model.safetensors')).equals(src));
  } finally {
    await server.close();
  }
});

test('a download whose sha256 does not match is rejected and leaves no file', async () => {
  const server = await startHubServer({ corrupt: ['model.safetensors'] });
  try {
    const cacheDir = tmp();
    await assert.rejects(
      pullModel('llmforge-test/tiny_gpt2', { cacheDir, endpoint: server.endpoint, ...quiet }),
      (e: Error) => {
        assert.match(e.message, /model\.safetensors: sha256 mismatch \(expected [0-9a-f]{64}, received [0-9a-f]{64}\)/);
        assert.ok(e instanceof UserError);
        return true;
      },
    );
    const snap = join(cacheDir, 'models--llmforge-test--tiny_gpt2', 'snapshots', 'a'.repeat(40));
    assert.ok(!existsSync(join(snap, 'model.safetensors')) && !existsSync(join(snap, 'model.safetensors.incomplete')));
    assert.ok(!existsSync(join(snap, '.llmforge-complete.json')));
  } finally {
    await server.close();
  }
});

test('offline mode uses only the cache, with a clear error when the model is not there', async () => {
  const server = await startHubServer();
  const cacheDir = tmp();
  try {
    await pullModel('llmforge-test/tiny_gpt2', { cacheDir, endpoint: server.endpoint, ...quiet });
  } finally {
    await server.close();
  }
  const r = await pullModel('llmforge-test/tiny_gpt2', {
    cacheDir,
    endpoint: 'http://127.0.0.1:9',
    offline: true,
    ...quiet,
  });
  assert.ok(existsSync(join(r.dir, 'model.safetensors')));
  await assert.rejects(
    pullModel('llmforge-test/fake_gpt2', { cacheDir, endpoint: 'http://127.0.0.1:9', offline: true, ...quiet }),
    /llmforge-test\/fake_gpt2@main: not in the cache .* offline mode is on/,
  );
});

test('401: the error names gated models and HF_TOKEN; the token is sent as Bearer', async () => {
  const server = await startHubServer({ token: 'secret' });
  try {
    const cacheDir = tmp();
    await assert.rejects(
      pullModel('llmforge-test/tiny_gpt2', { cacheDir, endpoint: server.endpoint, token: '', ...quiet }),
      /access denied \(HTTP 401\).*gated or private.*HF_TOKEN/,
    );
    const r = await pullModel('llmforge-test/tiny_gpt2', {
      cacheDir,
      endpoint: server.endpoint,
      token: 'secret',
      ...quiet,
    });
    assert.ok(existsSync(join(r.dir, 'config.json')));
    assert.ok(server.requests.slice(1).every((q) => q.auth === 'Bearer secret'));
  } finally {
    await server.close();
  }
});

test('llmforge generate --model hf://owner/name pulls into the cache and generates', async () => {
  const server = await startHubServer();
  try {
    const cacheDir = tmp();
    const child = spawn(
      process.execPath,
      [
        'bin/llmforge.js',
        'generate',
        '--model',
        'hf://llmforge-test/tiny_gpt2',
        'hello',
        '--max-tokens',
        '5',
        '--temperature',
        '0',
      ],
      {
        env: { ...process.env, HF_ENDPOINT: server.endpoint, LLMFORGE_CACHE: cacheDir, HF_HUB_OFFLINE: '' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^hello.+\n$/s);
    assert.match(stderr, /\[5 new tokens/);
    assert.ok(existsSync(join(cacheDir, 'models--llmforge-test--tiny_gpt2', 'refs', 'main')));
  } finally {
    await server.close();
  }
});
