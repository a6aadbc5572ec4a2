/**
 * `llmforge studio [--runs DIR] [--host 127.0.0.1] [--port 7860] [--token T] [--model DIR ...]`: serves the runs
 * page and the studio's JSON API (src/studio/server.ts) until Ctrl-C, which ends the event streams, closes the
 * connections and exits 0. It binds 127.0.0.1 by default; any other host needs a token (--token, or one generated
 * and printed with the URL). The API opens models only inside the runs directory or the --model paths.
 */
import { resolve } from 'node:path';
import { resolveToken } from '../../studio/access.ts';
import { createStudioServer } from '../../studio/server.ts';
import { UserError } from '../../util/user-error.ts';
import { optionValues, UsageError } from '../args.ts';
import type { Command } from '../command.ts';

export const studioCommand: Command = {
  spec: {
    name: 'studio',
    summary: 'Serve the runs page and a JSON API (runs, live metrics, predict, tokenize) on 127.0.0.1',
    usage: 'llmforge studio [--runs DIR] [--host 127.0.0.1] [--port 7860] [--token T] [--model DIR ...] [--quiet]',
    options: {
      runs: {
        type: 'string',
        help: 'Runs directory: each subdirectory with metrics.jsonl or recipe.json is a run',
        default: 'runs',
        arg: 'DIR',
      },
      host: {
        type: 'string',
        help: 'Address to listen on; anything but loopback requires a token',
        default: '127.0.0.1',
        arg: 'HOST',
      },
      port: { type: 'number', help: 'Port to listen on (0 = any free port)', default: 7860, arg: 'N' },
      token: {
        type: 'string',
        help: 'Token every request must carry (Bearer or ?token=); generated for a non-loopback host',
        arg: 'T',
      },
      model: {
        type: 'string',
        help: 'A model directory (or hf://owner/name) the API may open besides the runs directory; repeatable',
        arg: 'DIR',
        repeatable: true,
      },
      quiet: { type: 'boolean', help: 'No log line per request' },
    },
    details: [
      'Endpoints: GET /api/runs, GET /api/runs/<name>, GET /api/runs/<name>/metrics[?follow=1],',
      'POST /api/predict {"model","prompt","top"}, POST /api/tokenize {"model","text"} (see docs/studio.md). Example:',
      '  llmforge studio --runs runs',
      '  curl -s localhost:7860/api/predict -d \'{"model": "demo", "prompt": "The capital of France is", "top": 5}\'',
    ].join('\n'),
  },
  async run(args) {
    const o = args.options;
    const port = o.port as number;
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`studio: --port must be an integer in [0, 65535], received ${port}`);
    const host = o.host as string;
    if (typeof o.token === 'string' && o.token.trim() === '')
      throw new UsageError('studio: --token must be non-empty, received an empty string');
    const runsDir = resolve(o.runs as string);
    const models = optionValues(args, 'model');
    const { token, generated } = resolveToken(host, o.token as string | undefined);
    const log = o.quiet === true ? undefined : (line: string) => process.stderr.write(`${line}\n`);
    const studio = createStudioServer({ runsDir, host, token, models, ...(log ? { log } : {}) });
    await new Promise<void>((ok, fail) => {
      studio.server.once('error', (e: NodeJS.ErrnoException) =>
        fail(new UserError(`studio: cannot listen on ${host}:${port} (${e.code ?? e.message})`)),
      );
      studio.server.listen(port, host, () => ok());
    });
    const addr = studio.server.address();
    const bound = typeof addr === 'object' && addr !== null ? addr.port : port;
    const shown = host.includes(':') ? `[${host}]` : host;
    const url = `http://${shown}:${bound}/${token !== null ? `?token=${encodeURIComponent(token)}` : ''}`;
    process.stdout.write(`llmforge studio: ${runsDir} on ${url}\n`);
    if (generated) process.stdout.write(`token (generated; every request needs it): ${token}\n`);
    process.stdout.write('Ctrl-C stops\n');
    await new Promise<void>((done) => {
      process.once('SIGINT', () => {
        process.stderr.write('stopping studio\n');
        void studio.shutdown().then(done);
      });
    });
  },
};
