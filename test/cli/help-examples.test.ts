/**
 * Every `--help` example that needs nothing but what `npm start` leaves (runs/demo) works: a tiny run of
 * recipes/demo.yaml is written to <tmp>/runs/demo, then the example lines of every command's help are parsed and
 * each one whose paths all lie under runs/demo (or that names no path) is run from <tmp>, in command order (so
 * `import` reads what `export` wrote); commands that serve, benchmark, download or rerun the full demo are skipped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';

const BIN = resolve('bin/llmforge.js');
const DEMO = resolve('recipes/demo.yaml');

function cli(cwd: string, args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd });
}

const TINY = [
  'documents=300',
  'vocab=300',
  'steps=6',
  'stages.model.config.nLayer=1',
  'stages.model.config.nEmbd=32',
  'stages.model.config.nHead=2',
  'stages.model.config.blockSize=32',
  'stages.pretrain.context=32',
  'stages.pretrain.batchSize=4',
  'stages.pretrain.evalInterval=3',
  'stages.pretrain.evalIters=2',
  'stages.pretrain.warmup=2',
  'stages.sample.maxTokens=5',
];

/** Commands whose examples are not one-shot checks against runs/demo (a server, benchmarks, the hub, the full demo). */
const SKIP = new Set(['serve', 'studio', 'bench', 'pull', 'start', 'run', 'doctor', 'chat']);

/** Splits a shell command line into words (single and double quotes; no expansion). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) words.push(m[1] ?? m[2] ?? m[3]!);
  return words;
}

/** The example command lines of one help text: lines that start with `llmforge ` (or `Example: llmforge `), without placeholders. */
export function helpExamples(help: string): string[] {
  const out: string[] = [];
  for (const raw of help.split('\n')) {
    const m = /^\s*(?:Example:\s*)?llmforge\s+(.*)$/.exec(raw);
    if (!m || /^[\w-]+( [\w-]+)?:/.test(m[1]!)) continue; // no match, or the help's title line `llmforge run: ...`
    const line = m[1]!.replace(/\s+#.*$/, '').trim();
    if (/[<[|]/.test(line.replace(/"[^"]*"/g, ''))) continue; // a usage line: <dir>, [options], a|b
    out.push(line);
  }
  return out;
}

test('help examples parse: usage lines are left out, comments are stripped', () => {
  const help = [
    'Usage: llmforge predict --model <dir> "text" [--top N]',
    '       llmforge data inspect <dir> [--tokens N]',
    'Examples:',
    '  llmforge estimate --params 175e9 --tokens 300e9   # GPT-3',
    'Example: llmforge predict --model runs/demo "a | b" --top 5',
  ].join('\n');
  assert.deepEqual(helpExamples(help), [
    'estimate --params 175e9 --tokens 300e9',
    'predict --model runs/demo "a | b" --top 5',
  ]);
  assert.deepEqual(shellWords('predict --model runs/demo "a | b" --top 5'), [
    'predict',
    '--model',
    'runs/demo',
    'a | b',
    '--top',
    '5',
  ]);
});

test('every --help example that needs only runs/demo works after a (tiny) `npm start`', () => {
  const cwd = tempDir('help-examples');
  const built = cli(cwd, ['run', DEMO, '--set', 'out=runs/demo', ...TINY, '--quiet']);
  assert.equal(built.status, 0, built.stderr);

  const top = cli(cwd, ['--help']).stdout;
  const list = top.slice(top.indexOf('Commands:\n'), top.indexOf('\n\n', top.indexOf('Commands:\n')));
  const names = [...list.matchAll(/^ {2}(\S+)\s{2,}/gm)].map((m) => m[1]!);
  assert.ok(names.includes('predict') && names.includes('generate'), top);
  const ran: string[] = [];
  const skipped: string[] = [];
  for (const name of names) {
    const help = cli(cwd, [name, '--help']);
    assert.equal(help.status, 0, `${name} --help: ${help.stderr}`);
    for (const line of helpExamples(help.stdout)) {
      const words = shellWords(line).map((w) => (w.startsWith('/tmp/') ? join(cwd, w.slice(5)) : w));
      const paths = words.filter((w) => w.includes('/') && !w.startsWith(cwd));
      const local = paths.every((p) => p === 'runs/demo' || p.startsWith('runs/demo'));
      if (SKIP.has(words[0]!) || line.includes('&&') || !local) {
        skipped.push(line);
        continue;
      }
      const r = cli(cwd, words);
      assert.equal(r.status, 0, `llmforge ${line}\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /^error:/m, `llmforge ${line}`);
      ran.push(line);
    }
  }
  for (const must of ['predict --model runs/demo', 'generate --model runs/demo', 'eval ppl', 'eval mc', 'eval facts'])
    assert.ok(
      ran.some((l) => l.startsWith(must)),
      `no example starting "${must}" ran: ${ran.join(' ; ')}`,
    );
  assert.ok(ran.some((l) => l.startsWith('info --model runs/demo')));
  assert.ok(ran.some((l) => l.startsWith('export --model runs/demo')));
});
