/**
 * The `native` backend: the C++ addon built by `npm install` (node-gyp, binding.gyp). The addon exports
 * functions whose names and argument orders are exactly the Backend interface, so this file only loads it,
 * checks that every kernel is present, and reports the CPU features it dispatches on.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { Backend } from './backend.ts';

export interface CpuInfo {
  avx2: boolean;
  avx512: boolean;
  avx512bf16: boolean;
  /** AMX-BF16 tiles usable by this process (the CPU has them and the OS granted the tile state): gemmBf16 runs on them. */
  amxBf16: boolean;
  /** The instruction set the kernels dispatch to ('avx512', 'avx2' or 'scalar'). */
  isa: string;
}

/** A decode weight: fp32, or bfloat16 bits (Uint16Array from `toBf16`). Row-major (N, K). */
export type DecodeWeightArray = Float32Array | Uint16Array;

/**
 * Batch-1 decoding kernels of native/src/decode.h (native only: the op-by-op forward is their reference). Biases
 * and norm biases may be null.
 */
export interface DecodeKernels {
  /** One GPT-2 block for the token at `pos`: x (C) updated in place, its key/value written to the caches. */
  gptDecodeBlock(
    x: Float32Array,
    ln1W: Float32Array,
    ln1B: Float32Array | null,
    attnW: DecodeWeightArray,
    attnB: Float32Array | null,
    attnProjW: DecodeWeightArray,
    attnProjB: Float32Array | null,
    ln2W: Float32Array,
    ln2B: Float32Array | null,
    fcW: DecodeWeightArray,
    fcB: Float32Array | null,
    mlpProjW: DecodeWeightArray,
    mlpProjB: Float32Array | null,
    kCache: Float32Array,
    vCache: Float32Array,
    pos: number,
    C: number,
    H: number,
    F: number,
    eps: number,
  ): void;
  /**
   * One Llama block for the token at `pos`: x (C) updated in place, its rotated key and its value written to the
   * caches (capacity, Hkv, D). cos/sin (D/2) are the RoPE tables' row for `pos`; D is the head size (q is H*D).
   */
  llamaDecodeBlock(
    x: Float32Array,
    ln1W: Float32Array,
    qW: DecodeWeightArray,
    qB: Float32Array | null,
    kW: DecodeWeightArray,
    kB: Float32Array | null,
    vW: DecodeWeightArray,
    vB: Float32Array | null,
    oW: DecodeWeightArray,
    oB: Float32Array | null,
    ln2W: Float32Array,
    gateW: DecodeWeightArray,
    gateB: Float32Array | null,
    upW: DecodeWeightArray,
    upB: Float32Array | null,
    downW: DecodeWeightArray,
    downB: Float32Array | null,
    kCache: Float32Array,
    vCache: Float32Array,
    cos: Float32Array,
    sin: Float32Array,
    pos: number,
    C: number,
    H: number,
    Hkv: number,
    D: number,
    F: number,
    eps: number,
  ): void;
  /** logits (V) = W rmsNorm(x). */
  llamaDecodeHead(
    x: Float32Array,
    normW: Float32Array,
    eps: number,
    W: DecodeWeightArray,
    logits: Float32Array,
    V: number,
    C: number,
  ): void;
  /** logits (V) = W layerNorm(x). */
  gptDecodeHead(
    x: Float32Array,
    lnW: Float32Array,
    lnB: Float32Array | null,
    eps: number,
    W: DecodeWeightArray,
    logits: Float32Array,
    V: number,
    C: number,
  ): void;
  /** y (N) = bias + W x. */
  decodeGemv(
    W: DecodeWeightArray,
    bias: Float32Array | null,
    x: Float32Array,
    y: Float32Array,
    N: number,
    K: number,
  ): void;
  /** dst = bfloat16(src), round to nearest even. */
  toBf16(src: Float32Array, dst: Uint16Array): void;
}

export interface NativeAddon extends Partial<Omit<Backend, 'name'>>, Partial<DecodeKernels> {
  cpuInfo(): CpuInfo;
  numThreads(): number;
  setNumThreads(n: number): void;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Loads the addon (LLMFORGE_ADDON=path overrides where), or returns every path tried with why it failed. With
 * LLMFORGE_REQUIRE_NATIVE=1 (CI) a missing addon throws instead, so nothing can quietly run on the reference backend.
 */
export function loadNativeAddon(): { addon: NativeAddon } | { error: string } {
  const require = createRequire(import.meta.url);
  const override = process.env.LLMFORGE_ADDON;
  const candidates = override
    ? [override]
    : [join(root, 'build', 'Release', 'llmforge_native.node'), join(root, 'build', 'Debug', 'llmforge_native.node')];
  const errors: string[] = [];
  for (const path of candidates) {
    try {
      return { addon: require(path) as NativeAddon };
    } catch (e) {
      errors.push(`${path}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const error = errors.join('; ');
  if (process.env.LLMFORGE_REQUIRE_NATIVE === '1') {
    throw new Error(
      `LLMFORGE_REQUIRE_NATIVE=1 but the native addon could not be loaded (${error}). Run \`npm run build:native\`.`,
    );
  }
  return { error };
}

/**
 * Builds the native backend from the addon. Kernels the addon lacks are taken from `fallback` and listed in
 * `missing`, so the caller can warn about them loudly.
 */
export function createNativeBackend(addon: NativeAddon, fallback: Backend): { backend: Backend; missing: string[] } {
  const missing: string[] = [];
  const backend: Record<string, unknown> = { name: 'native' };
  for (const key of Object.keys(fallback) as (keyof Backend)[]) {
    if (key === 'name') continue;
    const fn = (addon as unknown as Record<string, unknown>)[key];
    if (typeof fn === 'function') {
      backend[key] = fn;
    } else {
      missing.push(key);
      backend[key] = fallback[key];
    }
  }
  return { backend: backend as unknown as Backend, missing };
}
