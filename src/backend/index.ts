/**
 * Backend selection. The native addon is used when it loads; otherwise the reference backend, with one loud
 * warning that names the fix. LLMFORGE_BACKEND=reference|native forces a choice.
 *
 * Float64 mode (`withFloat64`) exists for gradient checks: the reference backend runs every kernel over
 * Float64Array storage, so finite differences are accurate. Tensors created inside it are float64.
 */
import type { Backend } from './backend.ts';
import { createNativeBackend, loadNativeAddon, type CpuInfo, type DecodeKernels, type NativeAddon } from './native.ts';
import { referenceBackend } from './reference/index.ts';

export type { Backend, FloatArray } from './backend.ts';
export type { DecodeKernels, DecodeWeightArray } from './native.ts';
export { Unary, Binary, MAX_RANK } from './backend.ts';

let nativeCache: { backend: Backend; addon: NativeAddon } | { error: string } | null = null;
let warned = false;

function nativeOrError(): { backend: Backend; addon: NativeAddon } | { error: string } {
  if (nativeCache === null) {
    const loaded = loadNativeAddon();
    if ('error' in loaded) {
      nativeCache = loaded;
    } else {
      const { backend, missing } = createNativeBackend(loaded.addon, referenceBackend);
      if (missing.length > 0) {
        process.emitWarning(
          `llmforge: the native addon lacks kernels [${missing.join(', ')}]; they run on the slow reference backend. ` +
            'Rebuild with `npm run build:native`.',
        );
      }
      nativeCache = { backend, addon: loaded.addon };
    }
  }
  return nativeCache;
}

function warnOnce(message: string): void {
  if (warned) return;
  warned = true;
  process.stderr.write(`\nWARNING: ${message}\n\n`);
}

function initialBackend(): Backend {
  const forced = process.env.LLMFORGE_BACKEND;
  if (forced === 'reference') return referenceBackend;
  const native = nativeOrError();
  if ('backend' in native) return native.backend;
  if (forced === 'native') {
    throw new Error(
      `LLMFORGE_BACKEND=native but the native addon could not be loaded (${native.error}). Run \`npm run build:native\`.`,
    );
  }
  warnOnce(
    `llmforge: the native addon could not be loaded (${native.error}); using the pure TypeScript reference backend, ` +
      'which is 10-100x slower. Fix: run `npm run build:native` (needs g++, make and python3).',
  );
  return referenceBackend;
}

let current: Backend | null = null;
let float64 = false;

/** The active backend (reference inside `withFloat64`). */
export function backend(): Backend {
  if (float64) return referenceBackend;
  if (current === null) current = initialBackend();
  return current;
}

/** Selects a backend by name for subsequent ops. Throws if 'native' is requested and the addon is missing. */
export function setBackend(name: 'native' | 'reference'): void {
  if (name === 'reference') {
    current = referenceBackend;
    return;
  }
  const native = nativeOrError();
  if ('error' in native)
    throw new Error(
      `setBackend('native'): the native addon could not be loaded (${native.error}). Run \`npm run build:native\`.`,
    );
  current = native.backend;
}

/** Runs fn with the named backend active, restoring the previous one afterwards. */
export function withBackend<T>(name: 'native' | 'reference', fn: () => T): T {
  const saved = current;
  setBackend(name);
  try {
    return fn();
  } finally {
    current = saved;
  }
}

/** True when the native addon loads. */
export function nativeAvailable(): boolean {
  return 'backend' in nativeOrError();
}

/** The native backend, or null when the addon is not available. */
export function nativeBackend(): Backend | null {
  const native = nativeOrError();
  return 'backend' in native ? native.backend : null;
}

/** CPU features the native kernels dispatch on, or null without the addon. */
export function cpuInfo(): CpuInfo | null {
  const native = nativeOrError();
  return 'addon' in native ? native.addon.cpuInfo() : null;
}

/**
 * The native batch-1 decoding kernels when the native backend is the active one (not in float64 mode) and the
 * addon has them; null otherwise (callers then run the op-by-op forward).
 */
export function decodeKernels(): DecodeKernels | null {
  const native = nativeOrError();
  if (!('addon' in native) || backend() !== native.backend) return null;
  const a = native.addon;
  return a.gptDecodeBlock && a.gptDecodeHead && a.llamaDecodeBlock && a.llamaDecodeHead && a.decodeGemv && a.toBf16
    ? (a as DecodeKernels)
    : null;
}

export { referenceBackend };

/** True inside withFloat64: new tensors use Float64Array storage and the reference backend. */
export function isFloat64(): boolean {
  return float64;
}

/** Runs fn in float64 mode (reference backend, Float64Array storage); used by gradient checks. */
export function withFloat64<T>(fn: () => T): T {
  const saved = float64;
  float64 = true;
  try {
    return fn();
  } finally {
    float64 = saved;
  }
}
