/**
 * Reference rotary position embedding (Backend.rope) on x (B, T, H, D) with the "rotate half" pairing of
 * Hugging Face Llama: element i and element i + D/2 of each head vector form a pair, rotated by the angle of
 * (t, i) whose cos and sin are given as (T, D/2) tables. The inverse rotates by -angle, which is the backward.
 * Safe in place (out === x): each pair is read before it is written.
 */
import type { Backend } from '../backend.ts';

export const rope: Backend['rope'] = (x, out, cos, sin, B, T, H, D, inverse) => {
  if (D % 2 !== 0) throw new RangeError(`rope: head size D = ${D} must be even (pairs are (i, i + D/2))`);
  const half = D / 2;
  const sign = inverse ? -1 : 1;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const angle = t * half; // cos[t, :], sin[t, :]
      for (let h = 0; h < H; h++) {
        const base = ((b * T + t) * H + h) * D; // x[b, t, h, :]
        for (let i = 0; i < half; i++) {
          const c = cos[angle + i];
          const s = sign * sin[angle + i];
          const x1 = x[base + i];
          const x2 = x[base + i + half];
          out[base + i] = x1 * c - x2 * s;
          out[base + i + half] = x2 * c + x1 * s;
        }
      }
    }
  }
};
