/**
 * Reference unary elementwise ops and their derivatives (Backend.unary, Backend.unaryBackward). Each op is a
 * pair of scalar functions in one table row, forward and derivative side by side; the derivative gets both the
 * input x and the forward output y, and uses whichever is cheaper (exp' = y, sqrt' = 0.5 / y, tanh' = 1 - y^2,
 * sigmoid' = y (1 - y)). Conventions at kinks follow PyTorch: relu'(0) = 0, abs'(0) = 0.
 */
import { Unary, type Backend, type UnaryOp } from '../backend.ts';
import { erfc } from './erf.ts';

interface UnaryRule {
  /** y = f(x) */
  forward(x: number): number;
  /** dy/dx, given x and y = f(x) */
  derivative(x: number, y: number): number;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;
const INV_SQRT_2 = 1 / Math.SQRT2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Logistic sigmoid, written so that exp never overflows. */
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Standard normal CDF Phi(x) = 0.5 (1 + erf(x / sqrt 2)), via erfc so it stays accurate in the left tail. */
function normalCdf(x: number): number {
  return 0.5 * erfc(-x * INV_SQRT_2);
}

const RULES: { [K in keyof typeof Unary]: UnaryRule } = {
  neg: { forward: (x) => -x, derivative: () => -1 },
  exp: { forward: Math.exp, derivative: (_x, y) => y },
  log: { forward: Math.log, derivative: (x) => 1 / x },
  sqrt: { forward: Math.sqrt, derivative: (_x, y) => 0.5 / y },
  tanh: { forward: Math.tanh, derivative: (_x, y) => 1 - y * y },
  // biome-ignore lint/complexity/useMathMinMax: NaN maps to 0 here (x > 0 is false); Math.max(x, 0) would return NaN
  relu: { forward: (x) => (x > 0 ? x : 0), derivative: (x) => (x > 0 ? 1 : 0) },
  // 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)
  geluTanh: {
    forward: (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x))),
    derivative: (x) => {
      const t = Math.tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x));
      const du = SQRT_2_OVER_PI * (1 + 3 * GELU_CUBIC * x * x);
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du;
    },
  },
  // x Phi(x); derivative Phi(x) + x phi(x)
  geluErf: {
    forward: (x) => x * normalCdf(x),
    derivative: (x) => normalCdf(x) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x),
  },
  // x sigmoid(x); derivative s (1 + x (1 - s))
  silu: {
    forward: (x) => x * sigmoid(x),
    derivative: (x) => {
      const s = sigmoid(x);
      return s * (1 + x * (1 - s));
    },
  },
  sigmoid: { forward: sigmoid, derivative: (_x, y) => y * (1 - y) },
  abs: { forward: Math.abs, derivative: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0) },
};

/** Rules indexed by the numeric op code shared with C++. */
const RULE_BY_CODE: UnaryRule[] = [];
for (const name of Object.keys(Unary) as (keyof typeof Unary)[]) RULE_BY_CODE[Unary[name]] = RULES[name];

function rule(op: UnaryOp, kernel: string): UnaryRule {
  const r = RULE_BY_CODE[op];
  if (r === undefined)
    throw new RangeError(`${kernel}: unknown unary op code ${op}; expected one of the codes in Unary`);
  return r;
}

export const unary: Backend['unary'] = (op, x, out, n) => {
  const f = rule(op, 'unary').forward;
  for (let i = 0; i < n; i++) out[i] = f(x[i]);
};

export const unaryBackward: Backend['unaryBackward'] = (op, x, y, dy, dx, n) => {
  const df = rule(op, 'unaryBackward').derivative;
  for (let i = 0; i < n; i++) dx[i] = dy[i] * df(x[i], y[i]);
};
