#!/usr/bin/env node
// Runs the data suite: every test-data/**/*.test.ts through node's built-in runner with the tsx loader, against the
// shared public data files (tinyshakespeare, SMS Spam, LLMs-from-scratch, GPT-2 tokenizer, lm-buddy checkpoints).
// The data directory is $LLMFORGE_DATA, else ../shared/data beside the repository. When it (or a file the suite
// reads) is missing, this prints one line and exits 1: the suite fails, it never skips.
// Extra arguments are passed to `node --test` (e.g. --test-name-pattern=gpt2).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = resolve(root, process.env.LLMFORGE_DATA || '../shared/data');

/** The files under the data directory that test-data/ reads. */
const NEEDED = [
  'tinyshakespeare/input.txt',
  'sms-spam/SMSSpamCollection',
  'llms-from-scratch/instruction-data.json',
  'llms-from-scratch/instruction-data-with-preference.json',
  'llms-from-scratch/the-verdict.txt',
  'gpt2-tokenizer/encoder.json',
  'gpt2-tokenizer/vocab.bpe',
  'gpt2-tokenizer/tokenizer.json',
  'checkpoints/lm-buddy-fake_gpt2/model.safetensors',
  'checkpoints/lm-buddy-tiny_gpt2/model.safetensors',
];

if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) {
  console.error(
    `error: test:data: data directory ${dataDir} not found (set LLMFORGE_DATA to the folder holding tinyshakespeare/, sms-spam/, llms-from-scratch/, gpt2-tokenizer/ and checkpoints/)`,
  );
  process.exit(1);
}
const missing = NEEDED.filter((f) => !existsSync(join(dataDir, f)));
if (missing.length > 0) {
  console.error(
    `error: test:data: ${join(dataDir, missing[0])} not found${missing.length > 1 ? ` (and ${missing.length - 1} more of the suite's files)` : ''} (LLMFORGE_DATA=${dataDir})`,
  );
  process.exit(1);
}

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = collect(join(root, 'test-data'));
const args = ['--import', 'tsx', '--test', '--test-concurrency=1', ...process.argv.slice(2), ...files];
const result = spawnSync(process.execPath, args, {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, LLMFORGE_DATA: dataDir },
});
process.exit(result.status ?? 1);
