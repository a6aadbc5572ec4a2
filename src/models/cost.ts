/**
 * What a pretraining run costs: training FLOPs (6 x parameters x tokens, plus the attention term when the model's
 * shape is known), device-hours and wall time at a stated model FLOPs utilization (MFU) of a device's peak, the
 * price at a stated $/device-hour, and the memory the training state needs (weights, gradients and AdamW moments:
 * 16 bytes per parameter, both in mixed precision (2 + 2 + 4 master + 4 + 4) and in plain fp32 (4 + 4 + 8)) with the
 * fewest devices that hold it. The hardware table holds the stated assumptions: peak dense throughput, memory and an
 * assumed rental price per device-hour.
 */
import { ModelConfigError } from './config.ts';

export type Precision = 'bf16' | 'fp32';

export interface HardwareSpec {
  name: string;
  /** Peak dense 16-bit matmul throughput, FLOP/s (bf16; fp16 on V100, which has no bf16). */
  peak16: number;
  /** The 16-bit format peak16 is for. */
  format16: 'bf16' | 'fp16';
  /** Peak dense fp32 throughput, FLOP/s (no TF32). */
  peak32: number;
  memoryBytes: number;
  /** Assumed rental price, $ per device-hour. */
  pricePerHour: number;
  /** Precision a run on it uses unless told otherwise. */
  defaultPrecision: Precision;
  note: string;
}

const GiB = 1024 ** 3;

export const HARDWARE: Readonly<Record<string, HardwareSpec>> = {
  v100: {
    name: 'NVIDIA V100 SXM2 32GB',
    peak16: 125e12,
    format16: 'fp16',
    peak32: 15.7e12,
    memoryBytes: 32 * GiB,
    pricePerHour: 1.5,
    defaultPrecision: 'bf16',
    note: 'fp16 tensor cores (no bf16)',
  },
  a100: {
    name: 'NVIDIA A100 SXM 80GB',
    peak16: 312e12,
    format16: 'bf16',
    peak32: 19.5e12,
    memoryBytes: 80 * GiB,
    pricePerHour: 2.0,
    defaultPrecision: 'bf16',
    note: '',
  },
  h100: {
    name: 'NVIDIA H100 SXM 80GB',
    peak16: 989e12,
    format16: 'bf16',
    peak32: 67e12,
    memoryBytes: 80 * GiB,
    pricePerHour: 3.0,
    defaultPrecision: 'bf16',
    note: '',
  },
  cpu: {
    name: 'this machine (2 cores, AVX-512)',
    peak16: 0.92e12,
    format16: 'bf16',
    peak32: 0.46e12,
    memoryBytes: 24 * GiB,
    pricePerHour: 0.1,
    defaultPrecision: 'fp32',
    note: 'fp32 peak measured by bench gemm; bf16 = 2x (AVX512_BF16)',
  },
};

/** Bytes of training state per parameter: 16-bit weights and gradients, fp32 master weights and two Adam moments. */
export const BYTES_PER_PARAM = 16;

export interface EstimateInput {
  params: number;
  tokens: number;
  hardware: string;
  /** Fraction of peak achieved (default 0.4). */
  mfu?: number;
  /** Devices working in parallel (default: the fewest that hold the training state). */
  devices?: number;
  /** $ per device-hour (default: the hardware table's). */
  pricePerHour?: number;
  precision?: Precision;
  /** Training FLOPs per token when the model's shape is known (6N + 12*L*T*C); else 6 * params. */
  flopsPerToken?: number;
}

export interface Estimate {
  params: number;
  tokens: number;
  flops: number;
  flopsFormula: string;
  hardware: string;
  hardwareName: string;
  precision: Precision;
  /** The number format the peak is for ('fp16' for the 16-bit path on V100). */
  format: string;
  /** Peak FLOP/s of one device at this precision. */
  peak: number;
  mfu: number;
  /** mfu * peak. */
  achieved: number;
  deviceHours: number;
  devices: number;
  wallSeconds: number;
  pricePerHour: number;
  cost: number;
  /** Training state (weights, gradients, AdamW) at BYTES_PER_PARAM. */
  stateBytes: number;
  devicesToHold: number;
  /** Chinchilla's compute-optimal token count for this size (about 20 per parameter). */
  chinchillaTokens: number;
}

function fail(msg: string): never {
  throw new ModelConfigError(`estimate: ${msg}`);
}

export function estimateTraining(input: EstimateInput): Estimate {
  const hw =
    HARDWARE[input.hardware] ??
    fail(`unknown hardware "${input.hardware}" (expected ${Object.keys(HARDWARE).join(', ')})`);
  if (!(input.params > 0 && Number.isFinite(input.params)))
    fail(`parameters must be a positive number, received ${input.params}`);
  if (!(input.tokens > 0 && Number.isFinite(input.tokens)))
    fail(`tokens must be a positive number, received ${input.tokens}`);
  const mfu = input.mfu ?? 0.4;
  if (!(mfu > 0 && mfu <= 1)) fail(`MFU must be in (0, 1], received ${mfu}`);
  const pricePerHour = input.pricePerHour ?? hw.pricePerHour;
  if (!(pricePerHour >= 0 && Number.isFinite(pricePerHour)))
    fail(`price per hour must be a number >= 0, received ${pricePerHour}`);
  const precision = input.precision ?? hw.defaultPrecision;
  const perToken = input.flopsPerToken ?? 6 * input.params;
  const flops = perToken * input.tokens;
  const peak = precision === 'bf16' ? hw.peak16 : hw.peak32;
  const achieved = mfu * peak;
  const deviceSeconds = flops / achieved;
  const stateBytes = BYTES_PER_PARAM * input.params;
  const devicesToHold = Math.max(1, Math.ceil(stateBytes / hw.memoryBytes));
  const devices = input.devices ?? devicesToHold;
  if (!(Number.isInteger(devices) && devices > 0)) fail(`device count must be a positive integer, received ${devices}`);
  return {
    params: input.params,
    tokens: input.tokens,
    flops,
    flopsFormula: input.flopsPerToken === undefined ? '6 x N x D' : '(6N + 12 x L x T x C) x D',
    hardware: input.hardware,
    hardwareName: hw.name,
    precision,
    format: precision === 'bf16' ? hw.format16 : 'fp32',
    peak,
    mfu,
    achieved,
    deviceHours: deviceSeconds / 3600,
    devices,
    wallSeconds: deviceSeconds / devices,
    pricePerHour,
    cost: (deviceSeconds / 3600) * pricePerHour,
    stateBytes,
    devicesToHold,
    chinchillaTokens: 20 * input.params,
  };
}
