/**
 * `llmforge serve` as a process: it listens on the port asked for (0 = any), names the model and address on
 * stderr, answers requests with one log line each, and on SIGINT (Ctrl-C) stops and exits with status 0; a bad
 * option is one error line.
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
    ['bin/llmforge.js', 'serve', '--model', dir, '--port', '0', '--max-new-tokens', '8'],
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
  assert.match(stderr, /^serving tiny-served \(.*tiny-served, template chatml, max 8 new tokens\) on /);
  const r = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    body: JSON.stringify({ prompt: 'The sun', temperature: 0 }),
  });
  const body = (await r.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
  assert.equal(r.status, 200);
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
});
