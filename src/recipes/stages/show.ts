/**
 * How the recipe stages print what a model predicts: a prompt's top next tokens as bars (the `predict` stage), or
 * one compact line per prompt (the pretraining stage's live view at each evaluation). Tokens are quoted so a
 * leading space shows.
 */
import type { Prediction } from '../../generate/predict.ts';

const BAR_WIDTH = 40;

/** `"The capital of France is" ___` followed by one bar line per prediction. */
export function predictionBars(prompt: string, preds: readonly Prediction[]): string[] {
  const shown = preds.map((p) => JSON.stringify(p.token));
  const width = Math.max(...shown.map((s) => s.length));
  return [
    `${JSON.stringify(prompt)} ___`,
    ...preds.map(
      (p, i) =>
        `  ${shown[i]!.padEnd(width)}  ${'█'.repeat(Math.round(p.prob * BAR_WIDTH)).padEnd(BAR_WIDTH)} ${(p.prob * 100).toFixed(1).padStart(5)}%`,
    ),
  ];
}

/** `"The capital of France is" -> " Paris" 41.2% | " Rome" 12.0% | ...` */
export function predictionLine(prompt: string, preds: readonly Prediction[]): string {
  return `${JSON.stringify(prompt)} -> ${preds.map((p) => `${JSON.stringify(p.token)} ${(p.prob * 100).toFixed(1)}%`).join(' | ')}`;
}
