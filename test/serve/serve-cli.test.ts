/**
 * `llmforge serve` as a process: it listens on the port asked for (0 = any), names the model and address on
 * stderr, answers requests with one log line each (under the --model-name alias, with the --cors-origin header),
 * and on SIGINT (Ctrl-C) stops and exits with status 0; a bad option is one error line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { tinyServedModel } from './tiny-server.ts';

const { dir } = tinyServedModel();

test('serve --port 0: serving line, answers, one log line per request, SIGINT exits 0', async () => {
  const child = spawn(
    process.execPath,
    [
      'bin/llmforge.js',
      'serve',
      '--model',
      dir,
      '--port',
      '0',
      '--max-new-tokens',
      '8',
      '--model-name',
      'demo-model',
      '--cors-origin',
      'http://localhost:5173',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d: string) => {
      stderr += d;
      const m = /on (http:\/\/127\.0\.0\.1:\d+); Ctrl-C stops\n/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(`serve exited early: ${stderr}`)));
  });
  assert.match(
    stderr,
    /^serving demo-model \(.*tiny-served, template chatml, max 8 new tokens, CORS http:\/\/localhost:5173\) on /,
  );
  const r = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    body: JSON.stringify({ model: 'gpt-3.5-turbo-instruct', prompt: 'The sun', temperature: 0 }),
  });
  const body = (await r.json()) as { model: string; usage: { prompt_tokens: number; completion_tokens: number } };
  assert.equal(r.status, 200);
  assert.equal(body.model, 'demo-model');
  assert.equal(r.headers.get('access-control-allow-origin'), 'http://localhost:5173');
  assert.ok(body.usage.completion_tokens <= 8);
  child.kill('SIGINT');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, stderr);
  assert.match(
    stderr,
    new RegExp(
      `\\nPOST /v1/completions 200 ${body.usage.prompt_tokens}\\+${body.usage.completion_tokens} tokens \\(finish (stop|length)\\) \\d+ ms\\nstopping: no new requests; closing connections\\n$`,
    ),
  );
});

test('a bad option is one error line', () => {
  const r = spawnSync(process.execPath, ['bin/llmforge.js', 'serve', '--model', dir, '--port', '70000'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'error: serve: --port must be an integer in [0, 65535], received 70000\n');
  const c = spawnSync(
    process.execPath,
    ['bin/llmforge.js', 'serve', '--model', dir, '--cors-origin', 'localhost:3000'],
    {
      encoding: 'utf8',
    },
  );
  assert.notEqual(c.status, 0);
  assert.equal(
    c.stderr,
    'error: serve: --cors-origin: expected "*" or an origin like http://localhost:3000 (scheme://host[:port], no path or trailing slash), received "localhost:3000"\n',
  );
});
