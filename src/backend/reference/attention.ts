/**
 * Reference fused attention (readable TypeScript, float64 accumulation). Contract: Backend.attention and
 * Backend.attentionBackward in ../backend.ts.
 */
import type { Backend } from '../backend.ts';

export const attention: Backend['attention'] = () => {
  throw new Error('attention: reference kernel not written yet');
};

export const attentionBackward: Backend['attentionBackward'] = () => {
  throw new Error('attentionBackward: reference kernel not written yet');
};
