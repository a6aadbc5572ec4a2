/**
 * Nothing a trainer saved is lost, for every trainer of the command line (finetune sft, classify and domain,
 * reward train, dpo, ppo) on tiny models: a rerun into a run directory without --resume is refused with one line
 * and leaves the run untouched; Ctrl-C (SIGINT) mid-run finishes the update, saves a checkpoint and exits 130; the
 * state a crash between the two renames of the atomic checkpoint replacement leaves (only checkpoints/latest.prev)
 * is refused without --resume and resumed with it; and the resumed run ends with the same weights and optimizer
 * state, bit for bit, as the same command run straight through. A kill -9 mid-run, resumed, ends the same too.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/temp-dir.ts';
import { tinyAlignSetup } from '../helpers/tiny-align.ts';
import { syntheticPreferences } from '../helpers/tiny-preferences.ts';
import { TINY_TEXT } from '../helpers/tiny-char-base.ts';

const CLI = ['bin/llmforge.js'];

function cli(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the command, waits for its first line saying it trains, then sends `signal`; resolves with how it ended. */
function interrupted(
  args: readonly string[],
  signal: NodeJS.Signals,
  delayMs = 0,
): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const watch = (): void => {
      if (!sent && /training/.test(stdout + stderr)) {
        sent = true;
        setTimeout(() => child.kill(signal), delayMs);
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      watch();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      watch();
    });
    child.on('error', reject);
    child.on('close', (status, sig) => resolve({ status, signal: sig, stdout, stderr }));
  });
}

/** Every file under `dir` with its size and modification time: what "untouched" compares. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        out.push(`${p.slice(dir.length)} ${s.size} ${s.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out.sort();
}

/** The tensors of the latest checkpoint (weights, heads, adapters, optimizer moments), by file name. */
function latestTensors(out: string): Map<string, Buffer> {
  const dir = join(out, 'checkpoints', 'latest');
  const files = new Map<string, Buffer>();
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
      else if (e.name.endsWith('.safetensors')) files.set(rel + e.name, readFileSync(join(d, e.name)));
    }
  };
  walk(dir, '');
  return files;
}

function assertSameTensors(a: string, b: string, what: string): void {
  const ta = latestTensors(a);
  const tb = latestTensors(b);
  assert.ok(ta.size > 0, `${what}: no tensors in ${a}`);
  assert.deepEqual([...tb.keys()].sort(), [...ta.keys()].sort(), what);
  for (const [name, bytes] of ta) assert.ok(tb.get(name)!.equals(bytes), `${what}: ${name} differs`);
}

interface Trainer {
  name: string;
  /** The command line without --out. */
  args: string[];
}

function trainers(dir: string): Trainer[] {
  const { data: prefs, base, rm } = tinyAlignSetup(dir);
  const sft = join(dir, 'sft.json');
  writeFileSync(
    sft,
    JSON.stringify(
      syntheticPreferences(24, 7).map((p) => ({ instruction: p.instruction, input: '', output: p.chosen })),
    ),
  );
  const tsv = join(dir, 'polite.tsv');
  writeFileSync(
    tsv,
    syntheticPreferences(40, 3)
      .flatMap((p) => [`polite\t${p.chosen}`, `rude\t${p.rejected}`])
      .join('\n'),
  );
  const text = join(dir, 'domain.txt');
  writeFileSync(text, TINY_TEXT.repeat(3));
  const fp32 = ['--precision', 'fp32', '--seed', '5'];
  return [
    {
      name: 'finetune sft',
      args: ['finetune', 'sft', '--model', base, '--data', sft, '--template', 'chatml', '--steps', '60'],
    },
    {
      name: 'finetune classify',
      args: ['finetune', 'classify', '--model', base, '--data', tsv, '--epochs', '12', '--batch-size', '4'],
    },
    {
      name: 'finetune domain',
      args: ['finetune', 'domain', '--model', base, '--data', text, '--steps', '60', '--batch-size', '2'],
    },
    {
      name: 'reward train',
      args: ['reward', 'train', '--model', base, '--data', prefs, '--epochs', '12', '--batch-size', '2'],
    },
    {
      name: 'dpo',
      args: ['dpo', '--model', base, '--data', prefs, '--steps', '60', '--batch-size', '2'],
    },
    {
      name: 'ppo',
      args: [
        'ppo',
        '--model',
        base,
        '--reward-model',
        rm,
        '--prompts',
        prefs,
        '--iterations',
        '30',
        '--batch-size',
        '2',
        '--mini-batch-size',
        '2',
        '--ppo-epochs',
        '1',
        '--max-new-tokens',
        '4',
        '--val-prompts',
        '2',
      ],
    },
  ].map((t) => ({ ...t, args: [...t.args, ...fp32] }));
}

const root = tempDir('run-dir-trainers');
const all = trainers(root);

for (const t of all) {
  test(`${t.name}: a rerun without --resume is refused; Ctrl-C saves and exits 130; latest.prev resumes; the result equals a straight run`, async () => {
    const dir = join(root, t.name.replace(/ /g, '-'));
    const straight = join(dir, 'straight');
    const a = cli([...t.args, '--out', straight]);
    assert.equal(a.status, 0, a.stderr);

    // A rerun without --resume: one line, nothing written.
    const before = listing(straight);
    const again = cli([...t.args, '--out', straight]);
    assert.notEqual(again.status, 0);
    assert.match(
      again.stderr,
      /this run directory already has a checkpoint; pass --resume to continue it, or choose a new --out/,
    );
    assert.equal(again.stderr.trim().split('\n').length, 1, again.stderr);
    assert.doesNotMatch(again.stderr, /\n\s+at /);
    assert.deepEqual(listing(straight), before);

    // Ctrl-C mid-run: the update finishes, latest is saved, status 130 and the resume command.
    const cut = join(dir, 'cut');
    const c = await interrupted([...t.args, '--out', cut], 'SIGINT');
    assert.equal(c.status, 130, `${c.stdout}\n${c.stderr}`);
    assert.match(
      c.stdout,
      /stopped at step \d+; checkpoint saved to .*checkpoints[/\\]latest\nresume with: llmforge .* --resume\n/,
    );
    assert.ok(existsSync(join(cut, 'checkpoints', 'latest')));

    // A crash between the two renames of the next save leaves latest.prev only: refused without --resume ...
    renameSync(join(cut, 'checkpoints', 'latest'), join(cut, 'checkpoints', 'latest.prev'));
    const prevOnly = listing(cut);
    const refused = cli([...t.args, '--out', cut]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /latest\.prev: this run directory already has a checkpoint; pass --resume/);
    assert.deepEqual(listing(cut), prevOnly);
    // ... and resumed from with it, to the same weights and optimizer state as the straight run.
    const resumed = cli([...t.args, '--out', cut, '--resume']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout + resumed.stderr, /resum(ed|ing) from .*latest\.prev/);
    assertSameTensors(straight, cut, `${t.name} interrupted, resumed from latest.prev`);
    assert.ok(!existsSync(join(cut, 'checkpoints', 'latest.prev')), 'latest.prev is gone once latest is saved again');

    // kill -9 at some moment mid-run, then --resume: the same result again.
    const killed = join(dir, 'killed');
    const k = await interrupted([...t.args, '--out', killed], 'SIGKILL', 150);
    assert.equal(k.signal, 'SIGKILL');
    const after = cli([...t.args, '--out', killed, '--resume']);
    assert.equal(after.status, 0, after.stderr);
    assertSameTensors(straight, killed, `${t.name} killed, resumed`);
  });
}
