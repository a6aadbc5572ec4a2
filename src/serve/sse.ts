/**
 * Server-Sent Events as OpenAI streams them: response headers for an event stream, one `data: <json>\n\n` event
 * per chunk, and the closing `data: [DONE]\n\n`. Writes to a response whose client has gone are skipped.
 */
import type { ServerResponse } from 'node:http';

export function startEvents(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  res.flushHeaders();
}

export function sendEvent(res: ServerResponse, data: object): void {
  if (!res.destroyed) res.write(`data: ${JSON.stringify(data)}\n\n`);
}

export function endEvents(res: ServerResponse): void {
  if (!res.destroyed) res.end('data: [DONE]\n\n');
}
