/**
 * Tiny inputs for the alignment runs (reward, DPO, PPO) that need no ../shared: `tinyAlignSetup(dir)` writes 24
 * synthetic polite/rude preference pairs (tiny-preferences.ts) as `<dir>/prefs.json`, a byte-level BPE tokenizer
 * trained on them with an <|endoftext|> token (DPO and PPO end every response with it), a freshly initialised
 * one-layer GPT-2 (context 64) saved with it as `<dir>/base`, and a random reward model on the same tokenizer
 * (chatml template) as `<dir>/rm`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RewardModel, saveRewardModel } from '../../src/align/reward-model.ts';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { Rng } from '../../src/tensor/random.ts';
import { saveTokenizer } from '../../src/tokenizer/hf-json.ts';
import { trainBpe, WordCounter } from '../../src/tokenizer/train-bpe.ts';
import { syntheticPreferences } from './tiny-preferences.ts';

export interface TinyAlign {
  /** Preference pairs, JSON array. */
  data: string;
  /** The policy / reward base: a model directory with its tokenizer. */
  base: string;
  /** A random reward model directory. */
  rm: string;
}

export function tinyAlignSetup(dir: string, pairs = 24): TinyAlign {
  const records = syntheticPreferences(pairs, 7);
  const data = join(dir, 'prefs.json');
  writeFileSync(data, JSON.stringify(records));
  const counter = new WordCounter('gpt2');
  counter.add(
    records.map((r) => `${r.instruction} ${r.chosen} ${r.rejected} <|im_start|>user assistant<|im_end|>`).join('\n'),
  );
  const tok = trainBpe(counter.counts, {
    vocabSize: 320,
    minFrequency: 2,
    specialTokens: ['<|endoftext|>'],
    pretokenizer: 'gpt2',
  });
  const cfg = resolveModelConfig({
    arch: 'gpt2',
    vocabSize: tok.vocabSize,
    blockSize: 64,
    nLayer: 1,
    nHead: 2,
    nEmbd: 16,
    dropout: 0,
  });
  const base = join(dir, 'base');
  saveModel(base, createModel(cfg, new Rng(3)));
  saveTokenizer(base, tok);
  const rm = join(dir, 'rm');
  const eos = tok.specialId('<|endoftext|>')!;
  saveRewardModel(
    rm,
    new RewardModel(
      createModel(cfg, new Rng(9)),
      { template: 'chatml', maxLength: 64, padId: eos, eosId: eos },
      new Rng(10),
    ),
    tok,
  );
  return { data, base, rm };
}
