/**
 * Where the data suite finds the shared public data files: $LLMFORGE_DATA (scripts/run-data-tests.mjs sets it to an
 * absolute path), else ../shared/data beside the repository. `dataPath('sms-spam/SMSSpamCollection')` names a file
 * under it and throws one line naming the file and LLMFORGE_DATA when it is missing (the data suite fails, never
 * skips).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The data directory (absolute). */
export const DATA_DIR = resolve(root, process.env.LLMFORGE_DATA || '../shared/data');

/** An existing file or directory under the data directory. */
export function dataPath(rel: string): string {
  const path = join(DATA_DIR, rel);
  if (!existsSync(path))
    throw new Error(
      `${path} not found (the data suite reads the shared data from LLMFORGE_DATA, default ../shared/data)`,
    );
  return path;
}
