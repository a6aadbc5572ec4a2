/**
 * `llmforge serve --model <dir>`: serves one model over an OpenAI-compatible HTTP API (completions and chat
 * completions, streamed or whole; see src/serve/server.ts) until Ctrl-C, which stops accepting requests, aborts the
 * running generation and exits once the connections are closed. One log line per request goes to stderr unless
 * --quiet. --model-name sets the id the API reports (requests may name any model), --cors-origin lets a browser
 * page of that origin call it.
 */
import { basename, resolve } from 'node:path';
import { resolveTemplate } from '../../chat/templates.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { isHubRef } from '../../hub/repo-ref.ts';
import { checkCorsOrigin, createApiServer } from '../../serve/server.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { UserError } from '../../util/user-error.ts';

export const serveCommand: Command = {
  spec: {
    name: 'serve',
    summary: 'Serve a model over an OpenAI-compatible HTTP API (/v1/completions, /v1/chat/completions)',
    usage:
      'llmforge serve --model <dir> [--host 127.0.0.1] [--port 8080] [--template chatml|alpaca|model] [--max-new-tokens N] [--model-name ID] [--cors-origin ORIGIN] [--quiet]',
    options: {
      model: { type: 'string', help: 'Model directory, training run directory or hf://owner/name', arg: 'DIR' },
      host: { type: 'string', help: 'Address to listen on', default: '127.0.0.1', arg: 'HOST' },
      port: { type: 'number', help: 'Port to listen on (0 = any free port)', default: 8080, arg: 'N' },
      template: {
        type: 'string',
        help: 'Chat template for /v1/chat/completions: chatml, alpaca or model (its chat_template)',
        default: 'chatml',
        arg: 'NAME',
      },
      'max-new-tokens': {
        type: 'number',
        help: 'Default max_tokens of a request, and its limit (a larger max_tokens is clamped)',
        default: 256,
        arg: 'N',
      },
      'model-name': {
        type: 'string',
        help: 'Model id the API reports (default: the model directory name); requests may name any model',
        arg: 'ID',
      },
      'cors-origin': {
        type: 'string',
        help: 'Allow browser pages of this origin ("*" for any) to call the API (CORS headers, OPTIONS preflight)',
        arg: 'ORIGIN',
      },
      quiet: { type: 'boolean', help: 'No log line per request' },
    },
    details: [
      "Requests are answered one at a time, in arrival order. A prompt longer than the model's context is cropped",
      'from the left, as in `generate`. Example:',
      '  llmforge serve --model runs/demo/pretrain --port 8080',
      '  curl -s localhost:8080/v1/completions -d \'{"prompt": "The capital of France is", "max_tokens": 8, "temperature": 0}\'',
    ].join('\n'),
  },
  async run(args) {
    const o = args.options;
    if (typeof o.model !== 'string')
      throw new UsageError('serve: --model <dir> is required (a saved model or a training run directory)');
    const port = o.port as number;
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`serve: --port must be an integer in [0, 65535], received ${port}`);
    const maxNew = o['max-new-tokens'] as number;
    if (!Number.isInteger(maxNew) || maxNew < 1)
      throw new UsageError(`serve: --max-new-tokens must be an integer >= 1, received ${maxNew}`);
    const corsOrigin =
      typeof o['cors-origin'] === 'string' ? checkCorsOrigin(o['cors-origin'], 'serve: --cors-origin') : undefined;
    const alias = o['model-name'];
    if (alias !== undefined && (typeof alias !== 'string' || alias.trim() === ''))
      throw new UsageError('serve: --model-name must be a non-empty id, received an empty string');
    const { model, tokenizer, modelDir, tokenizerDir } = loadModelDir(o.model);
    const template = resolveTemplate(o.template as string, o.template === 'model' ? tokenizerDir : modelDir);
    const modelId = typeof alias === 'string' ? alias : isHubRef(o.model) ? o.model : basename(resolve(o.model));
    const log = o.quiet === true ? undefined : (line: string) => process.stderr.write(`${line}\n`);
    const api = createApiServer({
      model,
      tokenizer,
      template,
      modelId,
      maxNewTokens: maxNew,
      ...(corsOrigin !== undefined ? { corsOrigin } : {}),
      ...(log ? { log } : {}),
    });
    await new Promise<void>((ok, fail) => {
      api.server.once('error', (e: NodeJS.ErrnoException) =>
        fail(new UserError(`serve: cannot listen on ${o.host}:${port} (${e.code ?? e.message})`)),
      );
      api.server.listen(port, o.host as string, () => ok());
    });
    const addr = api.server.address();
    const where =
      typeof addr === 'object' && addr !== null
        ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
        : String(addr);
    process.stderr.write(
      `serving ${modelId} (${modelDir}, template ${template.name}, max ${maxNew} new tokens${corsOrigin !== undefined ? `, CORS ${corsOrigin}` : ''}) on ${where}; Ctrl-C stops\n`,
    );
    await new Promise<void>((done) => {
      process.once('SIGINT', () => {
        process.stderr.write('stopping: no new requests; closing connections\n');
        void api.shutdown().then(done);
      });
    });
  },
};
