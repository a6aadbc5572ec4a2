/**
 * Opens a prepared dataset directory (`llmforge data prepare` output) for training: both splits as token
 * datasets and the tokenizer saved with them, which the trainer uses for samples and copies into checkpoints.
 */
import { join } from 'node:path';
import { TokenDataset } from '../data/dataset.ts';
import { readMeta } from '../data/meta.ts';
import { loadTextTokenizer, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';

export interface TrainingData {
  train: TokenDataset;
  val: TokenDataset;
  tokenizer: TextTokenizer;
  /** Closes the shard files. */
  close(): void;
}

export function openTrainingData(dir: string): TrainingData {
  const meta = readMeta(dir);
  const tokenizer = loadTextTokenizer(join(dir, meta.tokenizer));
  const train = TokenDataset.open(dir, 'train');
  const val = TokenDataset.open(dir, 'val');
  return {
    train,
    val,
    tokenizer,
    close: () => {
      train.close();
      val.close();
    },
  };
}
