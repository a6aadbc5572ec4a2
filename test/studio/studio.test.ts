/**
 * The studio's server side over real HTTP on 127.0.0.1: a tiny real training run beside hand-made runs in each
 * status (running, stopped, failed, a recipe stopped mid-stage) and one named `<img src=x onerror=alert(1)>`; the
 * runs list and page, the metrics event stream delivering lines appended while connected, predict equal to
 * `predict --json`, tokenize, and the safety rules: token, Host and Origin checks, model path traversal (`..`,
 * absolute paths, symlinks out) refused with 403, bodies over the limit refused with 413, and `llmforge studio`
 * printing its URL and exiting cleanly on Ctrl-C.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, renameSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { resolveToken } from '../../src/studio/access.ts';
import { createStudioServer, type StudioOptions, type StudioServer } from '../../src/studio/server.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { tinyCharBase } from '../helpers/tiny-char-base.ts';
import { charPrepareArgs } from '../helpers/char-data.ts';

const XSS = '<img src=x onerror=alert(1)>';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

let root: string;
let runs: string;
let outsideModel: string;

function line(o: object): string {
  return `${JSON.stringify(o)}\n`;
}

/** Sets every given file's times to an hour ago (a quiet run). */
function age(...files: string[]): void {
  const t = new Date(Date.now() - 3600_000);
  for (const f of files) utimesSync(f, t, t);
}

before(() => {
  root = tempDir('studio');
  runs = join(root, 'runs');
  mkdirSync(runs);
  // a real tiny training run, finished
  const paragraphs = Array.from({ length: 40 }, (_, i) => `the cat number ${i} sat on the mat.`);
  writeFileSync(join(root, 'corpus.txt'), paragraphs.join('\n\n'));
  const data = join(root, 'data');
  let r = cli(...charPrepareArgs(join(root, 'corpus.txt'), data));
  assert.equal(r.status, 0, r.stderr);
  r = cli(
    'train',
    '--data',
    data,
    '--model',
    'char-tiny',
    '--set',
    'nLayer=1',
    'nEmbd=32',
    'nHead=2',
    'blockSize=16',
    '--batch',
    '4',
    '--eval-iters',
    '2',
    '--out',
    join(runs, 'tiny'),
    '--steps',
    '4',
    '--eval-interval',
    '2',
    '--log-interval',
    '1',
  );
  assert.equal(r.status, 0, r.stderr);
  // running: metrics just written, no checkpoint yet
  mkdirSync(join(runs, 'live'));
  writeFileSync(join(runs, 'live', 'metrics.jsonl'), line({ step: 1, loss: 3.5 }));
  // stopped: quiet, a checkpoint short of its steps
  mkdirSync(join(runs, 'halted', 'checkpoints', 'latest'), { recursive: true });
  writeFileSync(join(runs, 'halted', 'metrics.jsonl'), line({ step: 5, loss: 3.1 }));
  writeFileSync(
    join(runs, 'halted', 'checkpoints', 'latest', 'state.json'),
    JSON.stringify({ format: 'llmforge-train-state', step: 5, config: { steps: 100 } }),
  );
  age(join(runs, 'halted', 'metrics.jsonl'), join(runs, 'halted', 'checkpoints', 'latest', 'state.json'));
  // failed: quiet, unfinished, nothing to resume from
  mkdirSync(join(runs, 'crashed'));
  writeFileSync(join(runs, 'crashed', 'metrics.jsonl'), line({ step: 2, loss: 3.3 }));
  age(join(runs, 'crashed', 'metrics.jsonl'));
  // a recipe: data complete, pretrain started and quiet with a checkpoint
  const recipe = join(runs, 'recipe-run');
  mkdirSync(join(recipe, 'data'), { recursive: true });
  mkdirSync(join(recipe, 'pretrain', 'checkpoints', 'latest'), { recursive: true });
  writeFileSync(
    join(recipe, 'recipe.json'),
    JSON.stringify({
      stages: [
        { name: 'data', type: 'data' },
        { name: 'pretrain', type: 'pretrain' },
      ],
    }),
  );
  writeFileSync(join(recipe, 'data', '.started'), JSON.stringify({ hash: 'h', startedAt: '2026-01-02T03:04:05.000Z' }));
  writeFileSync(join(recipe, 'data', '.complete'), JSON.stringify({ hash: 'h' }));
  writeFileSync(
    join(recipe, 'pretrain', '.started'),
    JSON.stringify({ hash: 'p', startedAt: '2026-01-02T03:05:00.000Z' }),
  );
  writeFileSync(join(recipe, 'pretrain', 'metrics.jsonl'), line({ step: 7, loss: 2.9 }));
  writeFileSync(
    join(recipe, 'pretrain', 'checkpoints', 'latest', 'state.json'),
    JSON.stringify({ step: 7, config: { steps: 50 } }),
  );
  age(
    join(recipe, 'recipe.json'),
    join(recipe, 'data', '.complete'),
    join(recipe, 'pretrain', '.started'),
    join(recipe, 'pretrain', 'metrics.jsonl'),
    join(recipe, 'pretrain', 'checkpoints', 'latest', 'state.json'),
  );
  // a run whose name is markup
  mkdirSync(join(runs, XSS));
  writeFileSync(join(runs, XSS, 'metrics.jsonl'), line({ step: 1, loss: 3 }));
  // not a run
  mkdirSync(join(runs, 'notes'));
  // a model outside the runs directory, and a symlink to it from inside
  outsideModel = tinyCharBase(join(root)).base;
  symlinkSync(outsideModel, join(runs, 'escape'));
});

const servers: StudioServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.shutdown()));
});

async function start(opts: Partial<StudioOptions> = {}): Promise<string> {
  const s = createStudioServer({ runsDir: runs, pollMs: 20, ...opts });
  servers.push(s);
  await new Promise<void>((ok) => s.server.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
}

function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

test('GET /api/runs lists every run with the status its files tell', async () => {
  const base = await start();
  const res = await fetch(`${base}/api/runs`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as {
    runs: { name: string; status: string; step: number | null; steps: number | null; model: string | null }[];
  };
  const byName = Object.fromEntries(body.runs.map((r) => [r.name, r]));
  assert.deepEqual(Object.keys(byName).sort(), [XSS, 'crashed', 'halted', 'live', 'recipe-run', 'tiny'].sort());
  assert.equal(byName.tiny!.status, 'finished');
  assert.equal(byName.tiny!.step, 4);
  assert.equal(byName.tiny!.steps, 4);
  assert.match(byName.tiny!.model!, /char-tiny/);
  assert.equal(byName.live!.status, 'running');
  assert.equal(byName.halted!.status, 'stopped');
  assert.equal(byName.crashed!.status, 'failed');
  assert.equal(byName['recipe-run']!.status, 'stopped');
  assert.equal(byName['recipe-run']!.step, 7);
  const detail = (await (await fetch(`${base}/api/runs/tiny`)).json()) as {
    config: { config: { steps: number } };
    last: { step: number };
    lastEval: { val_loss: number };
  };
  assert.equal(detail.config.config.steps, 4);
  assert.equal(detail.last.step, 4);
  assert.equal(typeof detail.lastEval.val_loss, 'number');
  const recipe = (await (await fetch(`${base}/api/runs/recipe-run`)).json()) as {
    startedAt: string;
    stages: { name: string; status: string }[];
  };
  assert.equal(recipe.startedAt, '2026-01-02T03:04:05.000Z');
  assert.deepEqual(
    recipe.stages.map((s) => `${s.name}:${s.status}`),
    ['data:finished', 'pretrain:stopped'],
  );
  assert.equal((await fetch(`${base}/api/runs/notes`)).status, 404);
});

test('the runs page has one escaped run-row per run', async () => {
  const base = await start();
  const res = await fetch(`${base}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /text\/html/);
  const html = await res.text();
  const rows = [...html.matchAll(/<tr data-testid="run-row" data-run="([^"]*)" data-status="([^"]*)">/g)];
  assert.equal(rows.length, 6);
  assert.ok(rows.some((m) => m[1] === 'tiny' && m[2] === 'finished'));
  assert.ok(rows.some((m) => m[1] === 'live' && m[2] === 'running'));
  assert.ok(!html.includes('<img'), 'the run name must not become markup');
  assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
  const detail = await fetch(`${base}/api/runs/${encodeURIComponent(XSS)}`);
  assert.equal(detail.status, 200);
});

test('metrics?follow=1 streams the lines there, then lines appended while connected', async () => {
  const base = await start();
  const metrics = join(runs, 'live', 'metrics.jsonl');
  const ac = new AbortController();
  const res = await fetch(`${base}/api/runs/live/metrics?follow=1`, { signal: ac.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const waitFor = async (re: RegExp): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!re.test(text)) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${re} in:\n${text}`);
      const { value, done } = await reader.read();
      assert.ok(!done, `the stream ended early:\n${text}`);
      text += decoder.decode(value, { stream: true });
    }
  };
  await waitFor(/data: \{"step":1,"loss":3\.5\}/);
  appendFileSync(metrics, line({ step: 2, loss: 3.4 }));
  await waitFor(/data: \{"step":2,"loss":3\.4\}/);
  // a line being written shows once its newline arrives
  appendFileSync(metrics, '{"step":3,');
  appendFileSync(metrics, '"loss":3.3}\n');
  await waitFor(/data: \{"step":3,"loss":3\.3\}/);
  const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  // each event's id is the byte offset after its line
  assert.equal(ids[0], Buffer.byteLength(line({ step: 1, loss: 3.5 })));
  assert.equal(
    ids.at(-1),
    Buffer.byteLength(line({ step: 1, loss: 3.5 }) + line({ step: 2, loss: 3.4 }) + line({ step: 3, loss: 3.3 })),
  );
  ac.abort();
  await reader.cancel().catch(() => {});
  // the vanished client blocks nothing: the API still answers
  assert.equal((await fetch(`${base}/api/runs`)).status, 200);
  // the whole log as JSON without follow
  const all = (await (await fetch(`${base}/api/runs/live/metrics`)).json()) as { records: { step: number }[] };
  assert.deepEqual(
    all.records.map((r) => r.step),
    [1, 2, 3],
  );
});

test('a metrics log rewritten shorter (a resumed run) is announced as a reset and sent again', async () => {
  const own = tempDir('studio-reset');
  const base = await start({ runsDir: own });
  mkdirSync(join(own, 'resumed'));
  const metrics = join(own, 'resumed', 'metrics.jsonl');
  writeFileSync(metrics, line({ step: 1, loss: 3 }) + line({ step: 2, loss: 2.9 }));
  const ac = new AbortController();
  const res = await fetch(`${base}/api/runs/resumed/metrics?follow=1`, { signal: ac.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const waitFor = async (re: RegExp): Promise<void> => {
    while (!re.test(text)) {
      const { value, done } = await reader.read();
      assert.ok(!done, text);
      text += decoder.decode(value, { stream: true });
    }
  };
  await waitFor(/"step":2/);
  writeFileSync(`${metrics}.tmp`, line({ step: 1, loss: 3 }));
  renameSync(`${metrics}.tmp`, metrics);
  await waitFor(/event: reset\ndata: \{\}\n\n[\s\S]*"step":1,"loss":3\}/);
  ac.abort();
  await reader.cancel().catch(() => {});
});

test('POST /api/predict answers exactly what predict --json prints; /api/tokenize gives ids', async () => {
  const base = await start();
  const res = await post(`${base}/api/predict`, { model: 'tiny', prompt: 'the cat', top: 5 });
  assert.equal(res.status, 200);
  const api = await res.text();
  const r = cli('predict', '--model', join(runs, 'tiny'), 'the cat', '--top', '5', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.stringify(JSON.parse(api)), r.stdout.trim());
  const tok = (await (await post(`${base}/api/tokenize`, { model: 'tiny', text: 'cat' })).json()) as {
    tokens: { id: number; token: string }[];
  };
  assert.deepEqual(
    tok.tokens.map((t) => t.token),
    ['c', 'a', 't'],
  );
  assert.ok(tok.tokens.every((t) => Number.isInteger(t.id)));
  const bad = await post(`${base}/api/predict`, { model: 'tiny', prompt: 'x', top: 0 });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /^top: expected a positive integer/);
});

test('model paths outside the runs directory and the --model paths are refused with 403', async () => {
  const base = await start();
  for (const model of ['../data', `${join(runs, '..', 'data')}`, outsideModel, 'escape', '/etc']) {
    const res = await post(`${base}/api/predict`, { model, prompt: 'the' });
    assert.equal(res.status, 403, `${model}: ${res.status}`);
    const text = await res.text();
    assert.equal(text.trim().split('\n').length, 1);
    assert.match((JSON.parse(text) as { error: string }).error, /^model: /);
  }
  assert.equal((await fetch(`${base}/api/runs/..%2F..%2Fetc`)).status, 403);
  assert.equal((await fetch(`${base}/api/runs/escape`)).status, 404);
  // named on the command line: allowed
  const allowed = await start({ models: [outsideModel] });
  assert.equal((await post(`${allowed}/api/predict`, { model: outsideModel, prompt: 'the' })).status, 200);
  assert.equal((await post(`${allowed}/api/predict`, { model: 'escape', prompt: 'the' })).status, 200);
});

test('cross-site POSTs and foreign Host headers are refused; the own origin is accepted', async () => {
  const base = await start();
  const port = new URL(base).port;
  const evil = await post(`${base}/api/predict`, { model: 'tiny', prompt: 'the' }, { origin: 'http://evil.example' });
  assert.equal(evil.status, 403);
  assert.match(((await evil.json()) as { error: string }).error, /^origin: cross-site request refused/);
  const own = await post(
    `${base}/api/predict`,
    { model: 'tiny', prompt: 'the' },
    { origin: `http://localhost:${port}` },
  );
  assert.equal(own.status, 200);
  // DNS rebinding: a foreign name resolving to 127.0.0.1
  const rebound = await new Promise<number>((ok, fail) => {
    const req = httpGet(
      { host: '127.0.0.1', port: Number(port), path: '/api/runs', headers: { host: `evil.example:${port}` } },
      (res) => {
        res.resume();
        ok(res.statusCode!);
      },
    );
    req.on('error', fail);
  });
  assert.equal(rebound, 403);
});

test('a token is generated for a non-loopback host and then every request needs it', async () => {
  assert.deepEqual(resolveToken('127.0.0.1', undefined), { token: null, generated: false });
  assert.deepEqual(resolveToken('localhost', undefined), { token: null, generated: false });
  const g = resolveToken('0.0.0.0', undefined);
  assert.equal(g.generated, true);
  assert.match(g.token!, /^[A-Za-z0-9_-]{20,}$/);
  assert.deepEqual(resolveToken('0.0.0.0', 's3cret'), { token: 's3cret', generated: false });
  const base = await start({ token: 's3cret' });
  assert.equal((await fetch(`${base}/api/runs`)).status, 401);
  assert.equal((await fetch(`${base}/`)).status, 401);
  assert.equal((await fetch(`${base}/api/runs?token=wrong`)).status, 401);
  assert.equal((await fetch(`${base}/api/runs?token=s3cret`)).status, 200);
  assert.equal((await fetch(`${base}/api/runs`, { headers: { authorization: 'Bearer s3cret' } })).status, 200);
  const page = await (await fetch(`${base}/?token=s3cret`)).text();
  assert.match(page, /href="\/api\/runs\/tiny\?token=s3cret"/);
});

test('a body over the limit is 413', async () => {
  const base = await start({ maxBody: 1024 });
  const res = await post(`${base}/api/predict`, { model: 'tiny', prompt: 'x'.repeat(4096) });
  assert.equal(res.status, 413);
  assert.match(((await res.json()) as { error: string }).error, /^body: expected at most 1024 bytes/);
  assert.equal((await post(`${base}/api/predict`, { model: 'tiny', prompt: 'the' })).status, 200);
});

test('llmforge studio prints its URL, serves, and exits 0 on Ctrl-C', async () => {
  assert.match(cli('studio', '--help').stdout, /--token/);
  const child = spawn(process.execPath, ['bin/llmforge.js', 'studio', '--runs', runs, '--port', '0', '--quiet'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((ok, fail) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) ok(m[1]!);
    });
    child.on('exit', () => fail(new Error(`exited early: ${out}`)));
  });
  try {
    const body = (await (await fetch(`${url}api/runs`)).json()) as { runs: unknown[] };
    assert.equal(body.runs.length, 6);
  } finally {
    child.kill('SIGINT');
  }
  const code = await new Promise<number | null>((ok) => child.on('exit', (c) => ok(c)));
  assert.equal(code, 0);
});
