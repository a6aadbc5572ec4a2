/**
 * Classification fine-tuning: reads labelled texts, splits them (stratified), balances the training part, tokenizes
 * with truncation, then trains a SequenceClassifier on a pretrained base with AdamW: all parameters, the last k
 * blocks plus the final norm, the head only, or LoRA adapters on the chosen linears plus the (new, fully trained)
 * head. After every epoch it evaluates on the validation split, appends metrics to `<out>/metrics.jsonl`, writes
 * `<out>/checkpoints/latest` (classifier, or with LoRA only the adapter and head; optimizer moments of the
 * trainable parameters; state.json) and, on a better validation accuracy, `<out>/checkpoints/best` (with LoRA the
 * merged classifier, and the adapter alone in `<out>/adapter`); finally it scores the best classifier on the test
 * split. A rerun with `resume` continues from latest (a LoRA run re-reads its base from `base`); each step's batch
 * comes from a per-epoch permutation fixed by the seed and dropout masks are seeded per step, so a resumed run
 * sees the same batches and masks and ends with the same weights and metrics as one run straight.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '../io/safetensors.ts';
import * as F from '../ops/index.ts';
import { AdamW } from '../optim/adamw.ts';
import type { Module } from '../nn/module.ts';
import { clipGradNorm } from '../optim/param-groups.ts';
import { noGrad } from '../tensor/autograd.ts';
import { fromData } from '../tensor/creation.ts';
import { StorageArena } from '../tensor/arena.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Rng, permutation } from '../tensor/random.ts';
import { loadModelDir } from '../generate/model-dir.ts';
import { encodeDocument, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { replaceDirAtomic, serializeOptimizer } from '../train/checkpoint.ts';
import { claimOutputDir, latestPath, stopRequested } from '../train/run-dir.ts';
import { MetricsLog } from '../train/metrics.ts';
import {
  describePrecision,
  resolvePrecision,
  withTrainPrecision,
  type PrecisionSetting,
  type ResolvedPrecision,
} from '../train/precision.ts';
import { dropoutSeedFor } from '../train/trainer.ts';
import { Progress } from '../util/progress.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
import { seedLoraDropout } from '../nn/lora.ts';
import {
  balance,
  classWeights,
  encodeExample,
  labelSet,
  padBatch,
  readClassifyData,
  stratifiedSplit,
  type Balance,
  type EncodedExample,
} from './classify-data.ts';
import {
  ClassifierError,
  HEAD_FILE,
  loadHeadInto,
  saveClassifier,
  saveClassifierHead,
  SequenceClassifier,
  type Pooling,
} from './classifier.ts';
import {
  attachLora,
  DEFAULT_LORA,
  formatTrainable,
  mergedLoraCopy,
  restoreLoraAdapter,
  saveAdapter,
  type LoraSettings,
} from './lora-finetune.ts';
import {
  classificationReport,
  formatClassificationReport,
  reportFields,
  type ClassificationReport,
} from './metrics.ts';
import { readStateFile } from '../train/state-file.ts';

export type TrainMode = 'all' | 'last-k' | 'head' | 'lora';

export interface ClassifyTrainOptions {
  /** TSV, CSV or JSONL file of labelled texts. */
  data: string;
  /** Pretrained base: a model directory or a training run directory. */
  base: string;
  out: string;
  mode: TrainMode;
  /** Blocks trained with mode 'last-k'. */
  lastK: number;
  /** Adapter settings of mode 'lora' (default: DEFAULT_LORA). */
  lora?: LoraSettings;
  pooling: Pooling;
  maxLength: number;
  balance: Balance;
  valFrac: number;
  testFrac: number;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  seed: number;
  resume: boolean;
  /** GEMM precision of the run (src/train/precision.ts; evaluation runs in it too); default 'fp32'. */
  precision?: PrecisionSetting;
  /** Stop after this many optimizer steps in this call (tests of resume); default: no limit. */
  maxSteps?: number;
  /** Aborted (Ctrl-C): the current update finishes, checkpoints/latest is saved and the result says stopped. */
  signal?: AbortSignal;
  quiet?: boolean;
  log?: (line: string) => void;
}

export interface ClassifyTrainResult {
  /** Stopped by the signal before the last step: checkpoints/latest holds the run, no test report was made. */
  stopped: boolean;
  steps: number;
  /** Updates done (= steps). */
  step: number;
  labels: string[];
  val: ClassificationReport | null;
  test: ClassificationReport | null;
  trainable: number;
  total: number;
  /** The classifier as trained (with LoRA: the wrapped base, adapters not merged). */
  classifier: SequenceClassifier;
}

const STATE = 'classify-state.json';
const OPT = 'optimizer.safetensors';
/** Where a LoRA checkpoint keeps its adapter (PEFT layout). */
const ADAPTER_DIR = 'adapter';

/**
 * Marks which parameters train: everything, the last k blocks + final norm + head, the head alone, or (mode
 * 'lora', on a base already wrapped by attachLora) the adapters' A and B + head.
 */
export function setTrainable(clf: Pick<SequenceClassifier, 'base' | 'score'>, mode: TrainMode, lastK: number): void {
  const nLayer = clf.base.config.nLayer;
  const names = clf.base.namedParameters();
  if (mode === 'lora' && !names.some(([name]) => name.endsWith('.lora_A')))
    throw new ClassifierError('setTrainable: mode lora needs a base with LoRA layers (attachLora first)');
  for (const [name, p] of names) {
    if (mode === 'all') p.requiresGrad = true;
    else if (mode === 'head') p.requiresGrad = false;
    else if (mode === 'lora') p.requiresGrad = /\.lora_[AB]$/.test(name);
    else {
      const m = /(?:^|\.)(?:h|layers)\.(\d+)\./.exec(name);
      p.requiresGrad = m ? Number(m[1]) >= nLayer - lastK : /^(ln_f|model\.norm)\./.test(name);
    }
  }
  clf.score.requiresGrad(true);
}

/** Predicted label index and probabilities per example, in batches, without autograd. */
export function predictClasses(
  clf: SequenceClassifier,
  rows: readonly number[][],
  batchSize: number,
): { pred: number[]; probs: number[][] } {
  const pred: number[] = [];
  const probs: number[][] = [];
  const wasTraining = clf.training;
  clf.eval();
  noGrad(() => {
    for (let i = 0; i < rows.length; i += batchSize) {
      const chunk = rows.slice(i, i + batchSize);
      const { ids, lengths, T } = padBatch(chunk, clf.info.padId);
      const p = F.softmax(clf.forward(ids, chunk.length, T, lengths), -1).toFlatArray();
      const K = clf.info.labels.length;
      for (let b = 0; b < chunk.length; b++) {
        const row = p.slice(b * K, (b + 1) * K);
        probs.push(row);
        pred.push(row.indexOf(Math.max(...row)));
      }
    }
  });
  if (wasTraining) clf.train();
  return { pred, probs };
}

function evaluateSplit(
  clf: SequenceClassifier,
  data: readonly EncodedExample[],
  batchSize: number,
): ClassificationReport {
  const { pred } = predictClasses(
    clf,
    data.map((d) => d.ids),
    batchSize,
  );
  return classificationReport(
    data.map((d) => d.label),
    pred,
    clf.info.labels,
  );
}

/**
 * Reads back the AdamW state that serializeOptimizer (src/train/checkpoint.ts) wrote for a head-on-base model,
 * checking each tensor's size. Unlike the trainer's restoreOptimizer it accepts trainable parameters without state:
 * a head-on-base model has some that never receive a gradient (e.g. an untied LM head under the classification head).
 */
export function restoreOptimizer(path: string, clf: Module, opt: AdamW): void {
  const file = readSafetensors(path);
  const steps = JSON.parse(file.metadata.steps ?? '{}') as Record<string, number>;
  for (const [name, p] of clf.namedParameters()) {
    const step = steps[name];
    if (step === undefined) continue;
    const m = file.tensors.get(`${name}.exp_avg`);
    const v = file.tensors.get(`${name}.exp_avg_sq`);
    if (!m || !v || m.data.length !== p.size)
      throw new ClassifierError(`${path}: optimizer state for "${name}" is missing or has the wrong size`);
    const conv = (a: Float32Array) => (p.data instanceof Float32Array ? Float32Array.from(a) : Float64Array.from(a));
    opt.state.set(p, { m: conv(m.data), v: conv(v.data), step });
  }
}

interface SavedState {
  step: number;
  bestValAccuracy: number | null;
  labels: string[];
  /** Training-loss sum and count since the last metrics record (a run stopped mid-epoch carries them over). */
  lossSum: number;
  lossN: number;
  /** The GEMM precision the run trained in (absent before the setting existed: fp32). */
  precision?: 'fp32' | 'bf16';
  options: Record<string, unknown>;
}

export async function trainClassifier(o: ClassifyTrainOptions): Promise<ClassifyTrainResult> {
  const precision = resolvePrecision(o.precision ?? 'fp32');
  return withTrainPrecision(precision.precision, () => trainClassifierIn(o, precision));
}

async function trainClassifierIn(o: ClassifyTrainOptions, precision: ResolvedPrecision): Promise<ClassifyTrainResult> {
  const log = o.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  // A new run never overwrites a saved one; a resume reads latest (or latest.prev, left by a crash mid-save).
  const from = claimOutputDir(o.out, o.resume, 'finetune classify');
  const latest = latestPath(o.out);
  const best = join(o.out, 'checkpoints', 'best');
  const lora = o.mode === 'lora' ? (o.lora ?? DEFAULT_LORA) : null;
  const resuming = from !== null;
  const ckpt = from ?? latest; // what a resume reads
  if (resuming && !existsSync(join(ckpt, STATE)))
    throw new ClassifierError(`${join(ckpt, STATE)}: missing; ${ckpt} is not a classifier checkpoint`);
  // A LoRA checkpoint holds only the adapter and head: the base comes from `base` again.
  const { model: base, tokenizer } = loadModelDir(resuming && !lora ? ckpt : o.base);
  const all = readClassifyData(o.data);
  const labels = labelSet(all);
  const split = stratifiedSplit(all, o.valFrac, o.testFrac, o.seed);
  const trainItems = balance(split.train, o.balance, o.seed + 1);
  const maxLength = Math.min(o.maxLength, base.config.blockSize);
  const padId = 0;
  const enc = (tok: TextTokenizer, items: { text: string; label: string }[]): EncodedExample[] =>
    items.map((d) => ({
      ids: encodeExample((t) => encodeDocument(tok, t), d.text, maxLength, padId),
      label: labels.indexOf(d.label),
    }));
  const train = enc(tokenizer, trainItems);
  const val = enc(tokenizer, split.val);
  const test = enc(tokenizer, split.test);
  const counts = labels.map((l) => `${l} ${trainItems.filter((d) => d.label === l).length}`).join(', ');
  log(
    `data ${all.length} examples, labels [${labels.join(', ')}]: train ${train.length} (${counts}, balance ${o.balance}), val ${val.length}, test ${test.length}; max length ${maxLength} tokens`,
  );

  const clf = new SequenceClassifier(base, { labels, pooling: o.pooling, maxLength, padId }, new Rng(o.seed));
  const attached = lora ? attachLora(base, lora, o.seed + 101) : null;
  let step = 0;
  let bestValAccuracy: number | null = null;
  let lossSum = 0;
  let lossN = 0;
  if (resuming) {
    const st = readStateFile(join(ckpt, STATE), 'a classifier run state', undefined, {
      step: 'count',
      bestValAccuracy: 'number?',
      labels: 'strings',
      lossSum: 'number?',
      lossN: 'count?',
      options: 'object',
    }) as unknown as SavedState;
    if (JSON.stringify(st.labels) !== JSON.stringify(labels))
      throw new ClassifierError(
        `${join(ckpt, STATE)}: labels ${JSON.stringify(st.labels)} differ from the data's ${JSON.stringify(labels)}`,
      );
    if (st.options.mode !== o.mode)
      throw new ClassifierError(
        `${join(ckpt, STATE)}: the run was trained with --train ${String(st.options.mode)}, this one asks for ${o.mode}; resume with the same mode or use a new --out`,
      );
    if (lora && attached) restoreLoraAdapter(join(ckpt, ADAPTER_DIR), base, lora, attached.targets);
    loadHeadInto(join(ckpt, HEAD_FILE), clf);
    const was = st.precision ?? 'fp32';
    if (was !== precision.precision)
      log(`note: the checkpoint was trained with ${was} matmuls; resuming with ${describePrecision(precision)}`);
    step = st.step;
    bestValAccuracy = st.bestValAccuracy;
    lossSum = st.lossSum ?? 0;
    lossN = st.lossN ?? 0;
  }
  setTrainable(clf, o.mode, o.lastK);
  const params = clf.parameters().filter((p) => p.requiresGrad);
  const trainable = params.reduce((s, p) => s + p.size, 0);
  const total = clf.numParameters();
  const how =
    o.mode === 'last-k'
      ? ` (k=${o.lastK})`
      : lora && attached
        ? ` (r ${lora.r}, alpha ${lora.alpha}, dropout ${lora.dropout} on ${attached.summary.modules.length} linears: ${attached.targets.join(', ')}; + head)`
        : '';
  log(
    `training ${o.mode}${how}: ${formatTrainable(trainable, total)}, pooling ${o.pooling}, ${describePrecision(precision)}`,
  );
  const opt = new AdamW(params, { lr: o.lr, weightDecay: o.weightDecay });
  if (resuming && existsSync(join(ckpt, OPT))) restoreOptimizer(join(ckpt, OPT), clf, opt);
  const weights = o.balance === 'weights' ? classWeights(trainItems, labels) : null;
  mkdirSync(o.out, { recursive: true });
  const metrics = new MetricsLog(join(o.out, 'metrics.jsonl'));
  if (resuming) {
    metrics.truncateAfter(step);
    log(`resuming from ${ckpt} at step ${step}`);
  } else metrics.truncateAfter(0); // a run that crashed before its first checkpoint left lines of its own

  const perEpoch = Math.ceil(train.length / o.batchSize);
  const totalSteps = o.epochs * perEpoch;
  const stopAt = Math.min(totalSteps, o.maxSteps === undefined ? Infinity : step + o.maxSteps);
  const progress = new Progress({ label: 'finetune', total: totalSteps, unit: 'steps', silent: o.quiet ?? false });
  const saveLatest = (): void => {
    replaceDirAtomic(latest, (dir) => {
      if (attached) {
        saveAdapter(join(dir, ADAPTER_DIR), base, attached.targets, o.base);
        saveClassifierHead(join(dir, HEAD_FILE), clf);
      } else saveClassifier(dir, clf, tokenizer);
      writeJsonAtomic(join(dir, STATE), {
        step,
        bestValAccuracy,
        labels,
        lossSum,
        lossN,
        precision: precision.precision,
        options: { ...o, log: undefined },
      } satisfies SavedState);
      writeFileAtomic(join(dir, OPT), serializeOptimizer(clf, opt));
    });
  };
  const saveBest = (): void => {
    if (!attached) {
      replaceDirAtomic(best, (dir) => saveClassifier(dir, clf, tokenizer));
      return;
    }
    replaceDirAtomic(best, (dir) => saveClassifier(dir, clf, tokenizer, mergedLoraCopy(base)));
    replaceDirAtomic(join(o.out, ADAPTER_DIR), (dir) => {
      saveAdapter(dir, base, attached.targets, o.base);
      saveClassifierHead(join(dir, HEAD_FILE), clf);
    });
  };
  let valReport: ClassificationReport | null = null;
  let stopped = false;
  clf.train();
  const arena = new StorageArena(); // forward and backward reuse the previous step's storage
  while (step < stopAt) {
    const epoch = Math.floor(step / perEpoch);
    const order = permutation(train.length, o.seed * 7919 + epoch);
    const at = (step % perEpoch) * o.batchSize;
    const batch = order.slice(at, at + o.batchSize).map((i) => train[i]!);
    const { ids, lengths, T } = padBatch(
      batch.map((b) => b.ids),
      padId,
    );
    seedLoraDropout(base, dropoutSeedFor(o.seed, step, 1));
    const targets = batch.map((b) => b.label);
    const lossValue = arena.run(() => {
      const logits = clf.forward(ids, batch.length, T, lengths, dropoutSeedFor(o.seed, step, 0));
      let loss: Tensor;
      if (weights) {
        const w = Float32Array.from(targets.map((t) => weights[t]!));
        const wsum = w.reduce((a, b) => a + b, 0);
        loss = F.sum(
          F.mul(
            F.crossEntropy(logits, targets, { reduction: 'none' }),
            fromData(
              w.map((x) => x / wsum),
              [batch.length],
            ),
          ),
        );
      } else loss = F.crossEntropy(logits, targets);
      loss.backward();
      return loss.item();
    });
    clipGradNorm(params, 1.0);
    opt.step();
    opt.zeroGrad();
    lossSum += lossValue;
    lossN++;
    step++;
    progress.update(step);
    stopped = step < totalSteps && (await stopRequested(o.signal));
    if (step % perEpoch === 0 || step === totalSteps) {
      valReport = val.length > 0 ? evaluateSplit(clf, val, 64) : null;
      const rec = {
        step,
        epoch: step / perEpoch,
        train_loss: lossSum / lossN,
        ...(valReport ? reportFields(valReport, 'val') : {}),
      };
      metrics.append(rec);
      const spam = valReport?.perClass.map((c) => `F1 ${c.label} ${c.f1.toFixed(3)}`).join(', ') ?? '';
      log(
        `step ${step}/${totalSteps}: train loss ${(lossSum / lossN).toFixed(4)}${valReport ? ` | val accuracy ${(valReport.accuracy * 100).toFixed(2)}% | ${spam}` : ''}`,
      );
      lossSum = 0;
      lossN = 0;
      const acc = valReport?.accuracy ?? null;
      if (bestValAccuracy === null || (acc !== null && acc > bestValAccuracy) || !existsSync(best)) {
        bestValAccuracy = acc ?? bestValAccuracy;
        saveBest();
      }
      saveLatest();
    } else if (step === stopAt || stopped) {
      saveLatest(); // stopped mid-epoch: no evaluation, the loss sum carries over to the resumed run
      log(`stopped at step ${step}/${totalSteps}; continue with resume`);
    }
    if (stopped) break;
  }
  progress.finish(step);
  let testReport: ClassificationReport | null = null;
  if (step >= totalSteps && test.length > 0 && existsSync(best)) {
    const bestBase = loadModelDir(best).model;
    const bestClf = new SequenceClassifier(bestBase, clf.info, new Rng(0));
    loadHeadInto(join(best, 'classifier-head.safetensors'), bestClf);
    testReport = evaluateSplit(bestClf, test, 64);
    // A resumed run that was already complete scores again but does not log the test record twice.
    const logged =
      existsSync(metrics.path) &&
      readFileSync(metrics.path, 'utf8')
        .split('\n')
        .some((l) => l.includes('"test_accuracy"') && (JSON.parse(l) as { step?: number }).step === step);
    if (!logged) metrics.append({ step, ...reportFields(testReport, 'test') });
    log(`test (best validation checkpoint):\n${formatClassificationReport(testReport)}`);
  }
  return {
    stopped,
    steps: step,
    step,
    labels,
    val: valReport,
    test: testReport,
    trainable,
    total,
    classifier: clf,
  };
}
