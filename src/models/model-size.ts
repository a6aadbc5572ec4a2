/**
 * Size checks that run before a model is allocated, so an untrusted or mistyped config (`"nLayer": 10000000`,
 * `blockSize` 1e12, a GGUF `context_length` of 2^31) is one clear error instead of minutes of allocation or a
 * `RangeError: Invalid typed array length`. `checkModelAllocatable` (called by createModel) refuses a config whose
 * largest array (a weight matrix, the RoPE tables or one layer's full-context KV cache) exceeds what one typed
 * array can hold, or whose parameters need more memory than the machine has. `checkConfigFitsWeights` (called by
 * every loader before it builds the model) refuses a config that describes far more parameters than the weight
 * files hold. Both name the source, the field at fault (in the source's own vocabulary when a loader maps it), and what
 * the value would need.
 */
import { totalmem } from 'node:os';
import { headSize, ModelConfigError } from './config.ts';
import { countParameters } from './flops.ts';
import type { ModelConfig } from './model.ts';
import { formatBytes, formatShort } from './units.ts';

/** The most elements one typed array holds (V8's limit on 64-bit machines). */
export const MAX_ARRAY_ELEMENTS = 2 ** 32;

/** Values beyond twice the stored ones a config may describe before checkConfigFitsWeights refuses it (64 MiB). */
export const WEIGHTS_SLACK = 2 ** 24;

/** The config fields a model's sizes depend on, in the order a culprit is looked for. */
const SIZE_FIELDS = ['nLayer', 'vocabSize', 'blockSize', 'nEmbd', 'mlpHidden', 'headDim', 'nHead', 'nKvHead'] as const;
export type SizeField = (typeof SIZE_FIELDS)[number];

/** How a source names a config field (a GGUF key, a Hugging Face key); by default the field itself. */
export type FieldNamer = (field: SizeField) => string;

const ownName: FieldNamer = (f) => f;

interface ArrayShape {
  what: string;
  fields: SizeField[];
  dims: number[];
}

/** The largest arrays a model of `cfg` allocates, each with the fields that size it. */
function largestArrays(cfg: ModelConfig): ArrayShape[] {
  const D = headSize(cfg);
  const C = cfg.nEmbd;
  const arrays: ArrayShape[] = [
    { what: 'the token embedding', fields: ['vocabSize', 'nEmbd'], dims: [cfg.vocabSize, C] },
  ];
  if (cfg.arch === 'gpt2') {
    arrays.push({ what: 'each attention weight', fields: ['nEmbd', 'nEmbd'], dims: [3 * C, C] });
    arrays.push({ what: 'the position embedding', fields: ['blockSize', 'nEmbd'], dims: [cfg.blockSize, C] });
  } else {
    const dField: SizeField = cfg.headDim !== undefined ? 'headDim' : 'nEmbd';
    arrays.push({ what: 'each attention weight', fields: ['nHead', dField, 'nEmbd'], dims: [cfg.nHead, D, C] });
    arrays.push({ what: 'the RoPE tables', fields: ['blockSize', dField], dims: [cfg.blockSize, D / 2] });
  }
  arrays.push({ what: 'each MLP weight', fields: ['mlpHidden', 'nEmbd'], dims: [cfg.mlpHidden, C] });
  arrays.push({
    what: "one layer's KV cache over the whole context",
    fields: ['blockSize', 'nKvHead', cfg.headDim !== undefined ? 'headDim' : 'nEmbd'],
    dims: [cfg.blockSize, cfg.nKvHead, D],
  });
  return arrays;
}

/** The field whose value alone makes `count(cfg)` exceed `limit`: setting it to 1 brings the count within it. */
function culprit(cfg: ModelConfig, limit: number, count: (c: ModelConfig) => number): SizeField | undefined {
  let best: SizeField | undefined;
  let bestValue = 0;
  for (const f of SIZE_FIELDS) {
    const v = cfg[f];
    if (v === undefined || v <= 1) continue;
    const smaller: ModelConfig = { ...cfg, [f]: 1 };
    if (f === 'nHead' || f === 'nKvHead') Object.assign(smaller, { nHead: 1, nKvHead: 1 });
    if (f === 'nEmbd' && cfg.mlpHidden >= cfg.nEmbd) smaller.mlpHidden = 1; // a derived width follows nEmbd
    if (count(smaller) <= limit && v > bestValue) {
      best = f;
      bestValue = v;
    }
  }
  return best;
}

/**
 * Refuses `cfg` when a model of it cannot be allocated here: an array past MAX_ARRAY_ELEMENTS, or parameters whose
 * float32 bytes exceed `memoryBytes` (default: this machine's memory). `source` names the config in the error.
 */
export function checkModelAllocatable(
  cfg: ModelConfig,
  source = 'model config',
  name: FieldNamer = ownName,
  memoryBytes = totalmem(),
): void {
  const valid = (f: SizeField): boolean => Number.isInteger(cfg[f]) && (cfg[f] as number) > 0;
  if (!SIZE_FIELDS.every((f) => valid(f) || (f === 'headDim' && cfg.headDim === undefined))) return; // checkModelConfig's to report
  for (const a of largestArrays(cfg)) {
    const n = a.dims.reduce((x, y) => x * y, 1);
    if (n <= MAX_ARRAY_ELEMENTS) continue;
    const field = a.fields.reduce((m, f) => ((cfg[f] ?? 0) > (cfg[m] ?? 0) ? f : m));
    throw new ModelConfigError(
      `${source}: ${name(field)} ${cfg[field]} is too large: ${a.what} (${a.dims.join(' x ')}) would need ${formatShort(n)} values (${formatBytes(4 * n)} as float32), more than the ${formatShort(MAX_ARRAY_ELEMENTS)} values one array can hold`,
    );
  }
  const params = countParameters(cfg).total;
  if (4 * params > memoryBytes) {
    const field = culprit(cfg, memoryBytes / 4, (c) => countParameters(c).total);
    const what = field ? `${name(field)} ${cfg[field]} is too large: the model` : 'the model';
    throw new ModelConfigError(
      `${source}: ${what} would need ${formatShort(params)} parameters (${formatBytes(4 * params)} as float32), more than this machine's ${formatBytes(memoryBytes)} of memory`,
    );
  }
}

/**
 * Refuses `cfg` when it describes far more parameters than the `storedValues` the weight files (`weights`, named
 * in the error) hold: checked before the model is built, so a config that does not belong to its weights costs
 * nothing. Within twice the stored values plus WEIGHTS_SLACK the loader goes on and names the misfit tensor.
 */
export function checkConfigFitsWeights(
  cfg: ModelConfig,
  storedValues: number,
  source: string,
  weights: string,
  name: FieldNamer = ownName,
): void {
  const params = countParameters(cfg).total;
  // A small mismatch is left to the loader's tensor-by-tensor check, whose error names the tensor; only a config
  // whose allocation would dwarf the file (twice its values plus WEIGHTS_SLACK) is refused here.
  if (params <= 2 * storedValues + WEIGHTS_SLACK) return;
  const field = culprit(cfg, storedValues, (c) => countParameters(c).total);
  const what = field
    ? `${name(field)} ${cfg[field]} is too large for the weights in ${weights}`
    : `the config does not match the weights in ${weights}`;
  throw new ModelConfigError(
    `${source}: ${what}: it describes ${formatShort(params)} parameters (${formatBytes(4 * params)} as float32), the file holds ${formatShort(storedValues)} values`,
  );
}
