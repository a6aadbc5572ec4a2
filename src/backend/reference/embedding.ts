/**
 * Reference embedding lookup and last-axis gathers, with their backwards (Backend.embedding,
 * embeddingBackward, gatherLast, gatherLastBackward). Indices are checked: an out-of-range token id is the most
 * common data bug, so it throws with the position and the valid range instead of reading garbage.
 */
import type { Backend } from '../backend.ts';

function checkIndex(kernel: string, name: string, n: number, id: number, size: number): void {
  if (!(id >= 0 && id < size)) {
    throw new RangeError(
      `${kernel}: ${name}[${n}] = ${id} is out of range [0, ${size}); check the vocabulary size and the data`,
    );
  }
}

export const embedding: Backend['embedding'] = (weight, ids, out, N, C) => {
  const V = Math.floor(weight.length / C); // weight is (V, C)
  for (let n = 0; n < N; n++) {
    const id = ids[n];
    checkIndex('embedding', 'ids', n, id, V);
    out.set(weight.subarray(id * C, id * C + C), n * C); // out[n, :] = weight[id, :]
  }
};

export const embeddingBackward: Backend['embeddingBackward'] = (dout, ids, dweight, N, C) => {
  const V = Math.floor(dweight.length / C);
  for (let n = 0; n < N; n++) {
    const id = ids[n];
    checkIndex('embeddingBackward', 'ids', n, id, V);
    const row = id * C;
    for (let c = 0; c < C; c++) dweight[row + c] += dout[n * C + c];
  }
};

export const gatherLast: Backend['gatherLast'] = (x, idx, out, N, V) => {
  for (let n = 0; n < N; n++) {
    checkIndex('gatherLast', 'idx', n, idx[n], V);
    out[n] = x[n * V + idx[n]]; // x is (N, V)
  }
};

export const gatherLastBackward: Backend['gatherLastBackward'] = (dout, idx, dx, N, V) => {
  dx.fill(0, 0, N * V);
  for (let n = 0; n < N; n++) {
    checkIndex('gatherLastBackward', 'idx', n, idx[n], V);
    dx[n * V + idx[n]] = dout[n];
  }
};
