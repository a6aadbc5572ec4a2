/** The llmforge version (package.json), recorded in checkpoints so a state.json names the code that wrote it. */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function libraryVersion(): string {
  if (cached === undefined) {
    try {
      cached = String(
        (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown })
          .version ?? 'unknown',
      );
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
