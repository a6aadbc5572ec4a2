/**
 * Checkpoints: the optimizer state round-trips exactly, a failed write leaves the previous checkpoint intact, and
 * every corrupt or mismatched checkpoint (truncated weights, missing files, bad state.json, another model's
 * config, an existing run without --resume) is an error naming the file, never a silent fresh start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, truncateSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW } from '../../src/optim/adamw.ts';
import { restoreOptimizer, replaceDirAtomic, serializeOptimizer } from '../../src/train/checkpoint.ts';
import { train, type TrainOptions } from '../../src/train/trainer.ts';
import { corpus, fastConfig, runDir, tinyModel } from './helpers.ts';
import { UserError } from '../../src/util/user-error.ts';

async function finishedRun(): Promise<{ out: string; opts: TrainOptions }> {
  const { tok, train: tr, val } = corpus();
  const out = runDir();
  const opts: TrainOptions = {
    config: fastConfig({ steps: 4, evalInterval: 0 }),
    model: tinyModel(tok.vocabSize),
    train: tr,
    val,
    out,
    tokenizer: tok,
    quiet: true,
  };
  await train(opts);
  return { out, opts: { ...opts, config: fastConfig({ steps: 6, evalInterval: 0 }), resume: true } };
}

test('optimizer state round-trips: moments and step counts per parameter name', async () => {
  const { out, opts } = await finishedRun();
  const r = await train(opts);
  const params = r.model.parameters();
  const a = new AdamW(params);
  restoreOptimizer(join(out, 'checkpoints', 'latest', 'optimizer.safetensors'), r.model, a);
  assert.equal(a.state.size, params.length);
  for (const s of a.state.values()) assert.equal(s.step, 6);
  const b = new AdamW(params);
  const file = join(runDir(), 'opt.safetensors');
  writeFileSync(file, serializeOptimizer(r.model, a));
  restoreOptimizer(file, r.model, b);
  for (const p of params) {
    assert.deepEqual(b.state.get(p)!.m, a.state.get(p)!.m);
    assert.deepEqual(b.state.get(p)!.v, a.state.get(p)!.v);
  }
});

test('a checkpoint write that fails keeps the previous checkpoint', () => {
  const dir = join(runDir(), 'ck');
  replaceDirAtomic(dir, (tmp) => writeFileSync(join(tmp, 'a.txt'), 'one'));
  assert.throws(
    () =>
      replaceDirAtomic(dir, (tmp) => {
        writeFileSync(join(tmp, 'a.txt'), 'two');
        throw new Error('disk full');
      }),
    /disk full/,
  );
  assert.equal(readFileSync(join(dir, 'a.txt'), 'utf8'), 'one');
  replaceDirAtomic(dir, (tmp) => writeFileSync(join(tmp, 'a.txt'), 'three'));
  assert.equal(readFileSync(join(dir, 'a.txt'), 'utf8'), 'three');
  assert.equal(existsSync(`${dir}.prev`), false);
});

test('corrupt, incomplete or mismatched checkpoints are errors naming the file', async () => {
  const { out, opts } = await finishedRun();
  const latest = join(out, 'checkpoints', 'latest');
  const backup = join(runDir(), 'backup');
  cpSync(latest, backup, { recursive: true });
  const restore = (): void => {
    rmSync(latest, { recursive: true, force: true });
    cpSync(backup, latest, { recursive: true });
  };
  const expectError = async (re: RegExp, o: TrainOptions = opts): Promise<void> => {
    await assert.rejects(train(o), (e: Error) => {
      assert.match(e.message, re);
      assert.ok(e instanceof UserError, e.message);
      return true;
    });
    restore();
  };

  const weights = join(latest, 'model.safetensors');
  truncateSync(weights, statSync(weights).size - 100);
  await expectError(/latest\/model\.safetensors: tensor ".*": data_offsets .* within the file/);

  rmSync(join(latest, 'optimizer.safetensors'));
  await expectError(/latest\/optimizer\.safetensors: missing; the checkpoint is incomplete/);

  writeFileSync(join(latest, 'optimizer.safetensors'), 'garbage');
  await expectError(/latest\/optimizer\.safetensors: /);

  writeFileSync(join(latest, 'state.json'), '{"step": 4');
  await expectError(/latest\/state\.json: cannot read the run state/);

  const { tok } = corpus();
  await expectError(/latest\/config\.json: the checkpoint's model differs from the requested one .*nEmbd 32 vs 64/, {
    ...opts,
    model: tinyModel(tok.vocabSize, { nEmbd: 64 }),
  });

  await expectError(/latest: this run directory already has a checkpoint; pass --resume/, { ...opts, resume: false });

  await expectError(/no checkpoint to resume from/, { ...opts, out: runDir() });
});
