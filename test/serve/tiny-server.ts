/**
 * The tiny served model of the serve tests: a byte-level BPE tokenizer trained in the test on text with accented
 * letters, CJK and an emoji (so generated tokens can end inside a UTF-8 character), a random two-layer GPT-2 with
 * enlarged weights (peaked, varied predictions), saved to a temporary directory named `tiny-served`, and a helper
 * that starts the API server on 127.0.0.1 with port 0 (optionally under another model id or with a CORS origin)
 * and collects its log lines.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after } from 'node:test';
import { loadModelDir, type LoadedModel } from '../../src/generate/model-dir.ts';
import type { PromptTemplate } from '../../src/chat/templates.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { createApiServer, type ApiServer } from '../../src/serve/server.ts';
import { Rng } from '../../src/tensor/random.ts';
import { saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { trainBpe, WordCounter } from '../../src/tokenizer/train-bpe.ts';
import { tempDir } from '../helpers/temp-dir.ts';

export const CORPUS = 'The café in Zürich serves crème brûlée. 東京の空は青い。 The sun rises 🌅 in the east.\n';

/** Saves the tiny model (context 32) to `<temp>/tiny-served` and loads it back as `serve` does. */
export function tinyServedModel(): LoadedModel & { dir: string } {
  const wc = new WordCounter();
  wc.add(CORPUS.repeat(20));
  const tok = trainBpe(wc.counts, { vocabSize: 300 });
  const model = createModel(
    completeModelConfig({ arch: 'gpt2', vocabSize: tok.vocabSize, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 32 }),
    new Rng(5),
  );
  for (const p of model.parameters()) if (p.ndim >= 2) for (let i = 0; i < p.size; i++) p.data[i] = p.data[i]! * 8;
  const dir = join(tempDir('serve'), 'tiny-served');
  mkdirSync(dir);
  saveModel(dir, model);
  saveTextTokenizer(dir, tok);
  return { ...loadModelDir(dir), dir };
}

export interface RunningServer {
  api: ApiServer;
  url: string;
  logs: string[];
}

/** Starts a server for `loaded` on 127.0.0.1, port 0; it is shut down when the test file ends. */
export async function startServer(
  loaded: LoadedModel,
  template: PromptTemplate,
  maxNewTokens = 64,
  extra: { modelId?: string; corsOrigin?: string } = {},
): Promise<RunningServer> {
  const logs: string[] = [];
  const api = createApiServer({
    model: loaded.model,
    tokenizer: loaded.tokenizer,
    template,
    modelId: extra.modelId ?? 'tiny-served',
    ...(extra.corsOrigin !== undefined ? { corsOrigin: extra.corsOrigin } : {}),
    maxNewTokens,
    log: (l) => logs.push(l),
  });
  await new Promise<void>((ok) => api.server.listen(0, '127.0.0.1', ok));
  after(() => api.shutdown());
  const { port } = api.server.address() as AddressInfo;
  return { api, url: `http://127.0.0.1:${port}`, logs };
}

/** POSTs `body` as JSON; returns the status and the parsed JSON answer. */
export async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

/** POSTs a streaming request; returns the `data:` payloads in order (the final "[DONE]" included, unparsed). */
export async function postStream(
  url: string,
  body: object,
): Promise<{ status: number; contentType: string | null; events: unknown[]; raw: string }> {
  const r = await fetch(url, { method: 'POST', body: JSON.stringify({ ...body, stream: true }) });
  const raw = await r.text();
  const events = raw
    .split('\n\n')
    .filter((e) => e !== '')
    .map((e) => {
      if (!e.startsWith('data: ')) throw new Error(`not an SSE data event: ${JSON.stringify(e)}`);
      const data = e.slice('data: '.length);
      return data === '[DONE]' ? data : (JSON.parse(data) as unknown);
    });
  return { status: r.status, contentType: r.headers.get('content-type'), events, raw };
}
