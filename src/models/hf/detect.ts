/**
 * Telling a Hugging Face model directory from an llmforge one: both hold a `config.json`, but only llmforge's says
 * {"format": "llmforge"}; a Hugging Face config names a `model_type` or `architectures`. The hook in
 * models/model-io.ts calls `isHfModelDir` before reading a directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function isHfModelDir(dir: string): boolean {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) return false;
  try {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> | null;
    return (
      typeof doc === 'object' &&
      doc !== null &&
      doc.format !== 'llmforge' &&
      ('model_type' in doc || 'architectures' in doc)
    );
  } catch {
    return false;
  }
}
