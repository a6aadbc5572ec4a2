/**
 * The recipe runner: stages write under <out>/<name>/ with a .complete marker last; a rerun skips complete stages,
 * a changed stage reruns with everything after it, --from-stage and --force rerun on demand, an interrupted stage
 * with unchanged parameters keeps its directory to resume, a dry run only reports, and a foreign directory is never
 * emptied.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRecipe } from '../../src/recipes/recipe.ts';
import { runRecipe, type RunRecipeOptions } from '../../src/recipes/runner.ts';
import { defineStage, registerStageType, unregisterStageType } from '../../src/recipes/registry.ts';
import { registerFakeStages, runs } from './fake-stages.ts';
import { tempDir } from '../helpers/temp-dir.ts';

registerFakeStages();

const recipeText = (out: string) => `out: ${out}
word: hi
stages:
  - {name: a, type: fake-write, text: "\${word}"}
  - {name: b, type: fake-upper, from: a}
  - {name: c, type: fake-upper, from: b}
`;

async function run(out: string, set: string[] = [], opts: RunRecipeOptions = {}) {
  runs.length = 0;
  const lines: string[] = [];
  const outcomes = await runRecipe(parseRecipe(recipeText(out), 'r.yaml', { set }), {
    ...opts,
    log: (l) => lines.push(l),
    quiet: true,
  });
  return { ran: [...runs], lines, outcomes };
}

test('stages write artifacts and markers; a rerun skips every complete stage', async () => {
  const out = join(tempDir('recipe'), 'run');
  const first = await run(out);
  assert.deepEqual(first.ran, ['a', 'b', 'c']);
  assert.equal(readFileSync(join(out, 'c', 'out.txt'), 'utf8'), 'HI');
  const marker = JSON.parse(readFileSync(join(out, 'a', '.complete'), 'utf8')) as { hash: string; params: unknown };
  assert.match(marker.hash, /^[0-9a-f]{64}$/);
  assert.deepEqual(marker.params, { text: 'hi', count: 1, shout: false, tags: [], extra: {} });
  assert.ok(existsSync(join(out, 'recipe.json')));
  const second = await run(out);
  assert.deepEqual(second.ran, []);
  assert.deepEqual(second.lines, ['skip a (complete)', 'skip b (complete)', 'skip c (complete)']);
  assert.deepEqual(
    second.outcomes.map((o) => o.status),
    ['skipped', 'skipped', 'skipped'],
  );
});

test('a changed stage reruns with everything after it; earlier stages are skipped', async () => {
  const out = join(tempDir('recipe'), 'run');
  await run(out);
  // Changing b's input via a's parameter reruns a and all after it.
  assert.deepEqual((await run(out, ['stages.a.count=2'])).ran, ['a', 'b', 'c']);
  assert.equal(readFileSync(join(out, 'c', 'out.txt'), 'utf8'), 'HIHI');
  // A changed parameter of the last stage reruns only it.
  assert.deepEqual((await run(out, ['stages.a.count=2', 'stages.c.from=a'])).ran, ['c']);
  // Back to the first settings: a's hash differs from its marker, so everything reruns.
  assert.deepEqual((await run(out)).ran, ['a', 'b', 'c']);
});

test('--from-stage and --force rerun complete stages', async () => {
  const out = join(tempDir('recipe'), 'run');
  await run(out);
  assert.deepEqual((await run(out, [], { fromStage: 'b' })).ran, ['b', 'c']);
  assert.deepEqual((await run(out, [], { force: true })).ran, ['a', 'b', 'c']);
  await assert.rejects(run(out, [], { fromStage: 'zz' }), /--from-stage zz: no such stage in r\.yaml; stages: a, b, c/);
});

test('a dry run reports what would run and changes nothing', async () => {
  const out = join(tempDir('recipe'), 'run');
  const fresh = await run(out, [], { dryRun: true });
  assert.deepEqual(fresh.ran, []);
  assert.ok(!existsSync(out));
  assert.deepEqual(fresh.lines, [
    'run a (fake-write): text="hi" count=1 shout=false tags=[] extra={}',
    'run b (fake-upper): from="a"',
    'run c (fake-upper): from="b"',
  ]);
  await run(out);
  const changed = await run(out, ['stages.b.from=a', 'stages.a.count=1', 'stages.c.from=a'], { dryRun: true });
  assert.deepEqual(changed.ran, []);
  assert.deepEqual(changed.lines, ['skip a (complete)', 'skip b (complete)', 'run c (fake-upper): from="a"']);
  assert.deepEqual(
    changed.outcomes.map((o) => o.status),
    ['skipped', 'skipped', 'would-run'],
  );
  assert.equal(readFileSync(join(out, 'c', 'out.txt'), 'utf8'), 'HI');
});

test('a missing output makes the stage run again', async () => {
  const out = join(tempDir('recipe'), 'run');
  await run(out);
  writeFileSync(join(out, 'b', 'out.txt'), '');
  assert.deepEqual((await run(out)).ran, []);
  rmSync(join(out, 'b', 'out.txt'));
  // A completed stage that lost an output starts afresh (it was not interrupted), and so do the stages after it.
  assert.deepEqual((await run(out)).ran, ['b', 'c']);
  // An interrupted one (started, never completed) resumes.
  rmSync(join(out, 'c', '.complete'));
  assert.deepEqual((await run(out)).ran, ['c (resuming)']);
});

test('an interrupted stage keeps its directory to resume when its parameters are unchanged', async () => {
  const out = join(tempDir('recipe'), 'run');
  const seen: { resuming: boolean; leftover: boolean }[] = [];
  let fail = true;
  registerStageType(
    defineStage({
      type: 'fake-flaky',
      summary: 'test: fails once after writing a partial file',
      params: { n: { type: 'integer', help: 'n', default: 1 } },
      outputs: (ctx) => ({ done: join(ctx.dir, 'done.txt') }),
      run(ctx) {
        seen.push({ resuming: ctx.resuming, leftover: existsSync(join(ctx.dir, 'partial.txt')) });
        writeFileSync(join(ctx.dir, 'partial.txt'), 'x');
        if (fail) throw new Error('interrupted');
        writeFileSync(join(ctx.dir, 'done.txt'), 'ok');
      },
    }),
  );
  try {
    const recipe = (n: number) =>
      parseRecipe(`out: ${out}\nstages:\n  - {name: t, type: fake-flaky, n: ${n}}\n`, 'r.yaml');
    const log = () => {};
    await assert.rejects(runRecipe(recipe(1), { log }), /interrupted/);
    assert.ok(!existsSync(join(out, 't', '.complete')));
    await assert.rejects(runRecipe(recipe(1), { log }), /interrupted/);
    fail = false;
    await runRecipe(recipe(2), { log });
    assert.deepEqual(seen, [
      { resuming: false, leftover: false },
      { resuming: true, leftover: true },
      { resuming: false, leftover: false },
    ]);
  } finally {
    unregisterStageType('fake-flaky');
  }
});

test('a directory the runner did not create is never emptied', async () => {
  const out = tempDir('recipe');
  mkdirSync(join(out, 'a'));
  writeFileSync(join(out, 'a', 'precious.txt'), 'keep');
  await assert.rejects(run(out), /a exists and is not a stage directory of a llmforge run/);
  assert.equal(readFileSync(join(out, 'a', 'precious.txt'), 'utf8'), 'keep');
});
