/**
 * Cheap stage types for the recipe tests: `fake-write` writes its text `count` times to out.txt, `fake-upper`
 * reads an earlier stage's text and writes it upper-cased. Both record each run in `runs`, so tests can see which
 * stages ran (and whether they were resuming) and which were skipped. Registered only by the tests that import
 * this file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineStage, getStageType, registerStageType } from '../../src/recipes/registry.ts';

export const runs: string[] = [];

export const fakeWrite = defineStage({
  type: 'fake-write',
  summary: 'test: write text',
  params: {
    text: { type: 'string', help: 'what to write' },
    count: { type: 'integer', help: 'how many times', default: 1, min: 1 },
    shout: { type: 'boolean', help: 'append !', default: false },
    tags: { type: 'string[]', help: 'labels', default: [] },
    extra: { type: 'object', help: 'free-form mapping', default: {} },
  },
  outputs: (ctx) => ({ text: join(ctx.dir, 'out.txt') }),
  run(ctx, p) {
    runs.push(ctx.resuming ? `${ctx.name} (resuming)` : ctx.name);
    writeFileSync(join(ctx.dir, 'out.txt'), p.text.repeat(p.count) + (p.shout ? '!' : ''));
  },
});

export const fakeUpper = defineStage({
  type: 'fake-upper',
  summary: 'test: upper-case an earlier text',
  params: { from: { type: 'string', help: 'stage or file' } },
  refs: { from: 'text' },
  outputs: (ctx) => ({ text: join(ctx.dir, 'out.txt') }),
  run(ctx, p) {
    runs.push(ctx.resuming ? `${ctx.name} (resuming)` : ctx.name);
    writeFileSync(join(ctx.dir, 'out.txt'), readFileSync(ctx.input(p.from, 'text'), 'utf8').toUpperCase());
  },
});

export function registerFakeStages(): void {
  if (!getStageType('fake-write')) registerStageType(fakeWrite);
  if (!getStageType('fake-upper')) registerStageType(fakeUpper);
}
