/**
 * Building and checking a `ModelConfig`: the per-architecture defaults (GPT-2: biases, tied head, MLP 4C; Llama: no
 * biases, untied head, SwiGLU width about 8C/3), `key=value` overrides from the command line coerced to each field's
 * type, and validation with one clear error per mistake (the source, the field, what was expected and what was
 * received). Every config that reaches a model, from a preset, the CLI or a `config.json`, passes `checkModelConfig`.
 */
import type { Arch, ModelConfig } from './model.ts';
import { checkRopeScaling } from './rope-scaling.ts';
import { UserError } from '../util/user-error.ts';

/** A user mistake in a model config: the CLI prints its message as one `error:` line. */
export class ModelConfigError extends UserError {}

type FieldKind = 'int' | 'number' | 'boolean' | 'arch' | 'ropeScaling';

/** Each ModelConfig field and the kind of value it holds (also the list of known keys). */
export const CONFIG_FIELDS: Readonly<Record<keyof ModelConfig, FieldKind>> = {
  arch: 'arch',
  vocabSize: 'int',
  blockSize: 'int',
  nLayer: 'int',
  nHead: 'int',
  nKvHead: 'int',
  nEmbd: 'int',
  mlpHidden: 'int',
  dropout: 'number',
  bias: 'boolean',
  normEps: 'number',
  ropeTheta: 'number',
  tieEmbeddings: 'boolean',
  qkvBias: 'boolean',
  headDim: 'int',
  ropeScaling: 'ropeScaling',
};

/** Fields that may be left out of a config (qkvBias: false; headDim: nEmbd / nHead; ropeScaling: none). */
const OPTIONAL_FIELDS: ReadonlySet<string> = new Set(['qkvBias', 'headDim', 'ropeScaling']);

const ARCHS: readonly Arch[] = ['gpt2', 'llama'];

/** Head size D: config.headDim when given, else nEmbd / nHead. */
export function headSize(cfg: Pick<ModelConfig, 'nEmbd' | 'nHead' | 'headDim'>): number {
  return cfg.headDim ?? cfg.nEmbd / cfg.nHead;
}

/** SwiGLU intermediate width for model width C: 8C/3 (same parameter count as a 4C GELU MLP), rounded up to 32. */
export function swigluHidden(C: number): number {
  return Math.ceil((8 * C) / 3 / 32) * 32;
}

/**
 * Fills the fields a partial config leaves out with the architecture's defaults: GPT-2 (biases, LayerNorm eps 1e-5,
 * tied head, MLP 4C, multi-head attention) or Llama (no biases, RMSNorm eps 1e-5, RoPE base 10000, untied head,
 * SwiGLU width `swigluHidden(C)`, nKvHead = nHead). Shape fields (vocabSize, blockSize, nLayer, nHead, nEmbd) have
 * no default and must be given.
 */
export function completeModelConfig(partial: Partial<ModelConfig>, source = 'model config'): ModelConfig {
  const arch = partial.arch ?? 'gpt2';
  for (const key of ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nEmbd'] as const) {
    if (partial[key] === undefined)
      throw new ModelConfigError(`${source}: field "${key}" is missing (expected a positive integer)`);
  }
  const C = partial.nEmbd!;
  const llama = arch === 'llama';
  return checkModelConfig(
    {
      arch,
      vocabSize: partial.vocabSize,
      blockSize: partial.blockSize,
      nLayer: partial.nLayer,
      nHead: partial.nHead,
      nKvHead: partial.nKvHead ?? partial.nHead,
      nEmbd: C,
      mlpHidden: partial.mlpHidden ?? (llama ? swigluHidden(C) : 4 * C),
      dropout: partial.dropout ?? 0,
      bias: partial.bias ?? !llama,
      normEps: partial.normEps ?? 1e-5,
      ropeTheta: partial.ropeTheta ?? 10000,
      tieEmbeddings: partial.tieEmbeddings ?? !llama,
      ...(partial.qkvBias !== undefined ? { qkvBias: partial.qkvBias } : {}),
      ...(partial.headDim !== undefined ? { headDim: partial.headDim } : {}),
      ...(partial.ropeScaling !== undefined ? { ropeScaling: partial.ropeScaling } : {}),
    },
    source,
  );
}

function describe(v: unknown): string {
  return typeof v === 'string' ? `"${v}"` : (JSON.stringify(v) ?? String(v));
}

/**
 * Checks that `raw` is a complete, consistent ModelConfig (every field present with the right type, no unknown
 * field, nEmbd divisible by nHead unless headDim is given, nHead by nKvHead, an even head size for RoPE, headDim and
 * ropeScaling on the Llama family only) and returns it typed.
 * `source` names where it came from (a file path, 'preset gpt-mini', '--set') in the error.
 */
export function checkModelConfig(raw: unknown, source = 'model config'): ModelConfig {
  const fail = (msg: string): never => {
    throw new ModelConfigError(`${source}: ${msg}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return fail(`expected an object of model settings, received ${describe(raw)}`);
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(key in CONFIG_FIELDS)) fail(`unknown field "${key}" (known: ${Object.keys(CONFIG_FIELDS).join(', ')})`);
  }
  for (const [key, kind] of Object.entries(CONFIG_FIELDS)) {
    const v = obj[key];
    if (v === undefined && OPTIONAL_FIELDS.has(key)) continue;
    if (v === undefined) fail(`field "${key}" is missing`);
    if (kind === 'arch' && !ARCHS.includes(v as Arch))
      fail(`field "arch" must be ${ARCHS.join(' or ')}, received ${describe(v)}`);
    if (kind === 'int' && !(Number.isInteger(v) && (v as number) > 0))
      fail(`field "${key}" must be a positive integer, received ${describe(v)}`);
    if (kind === 'number' && !(typeof v === 'number' && Number.isFinite(v)))
      fail(`field "${key}" must be a number, received ${describe(v)}`);
    if (kind === 'boolean' && typeof v !== 'boolean')
      fail(`field "${key}" must be true or false, received ${describe(v)}`);
    if (kind === 'ropeScaling') checkRopeScaling(v, fail);
  }
  const c = obj as unknown as ModelConfig;
  if (c.headDim === undefined && c.nEmbd % c.nHead !== 0)
    fail(`nEmbd ${c.nEmbd} must be a multiple of nHead ${c.nHead} (head size nEmbd / nHead; or give headDim)`);
  if (c.nHead % c.nKvHead !== 0)
    fail(
      `nHead ${c.nHead} must be a multiple of nKvHead ${c.nKvHead} (each key/value head serves nHead / nKvHead query heads)`,
    );
  if (c.arch === 'llama' && headSize(c) % 2 !== 0)
    fail(`head size ${c.headDim !== undefined ? 'headDim' : 'nEmbd / nHead'} = ${headSize(c)} must be even for RoPE`);
  if (c.headDim !== undefined && c.arch !== 'llama')
    fail('field "headDim" applies to arch llama only (GPT-2 heads are nEmbd / nHead wide)');
  if (c.ropeScaling !== undefined && c.arch !== 'llama')
    fail('field "ropeScaling" applies to arch llama only (GPT-2 has learned positions)');
  if (c.arch === 'gpt2' && c.nKvHead !== c.nHead)
    fail(`arch gpt2 uses multi-head attention: nKvHead must equal nHead ${c.nHead}, received ${c.nKvHead}`);
  if (c.qkvBias === true && c.arch !== 'llama')
    fail('field "qkvBias" applies to arch llama only (GPT-2 attention has biases through "bias")');
  if (!(c.dropout >= 0 && c.dropout < 1)) fail(`field "dropout" must be in [0, 1), received ${c.dropout}`);
  if (!(c.normEps > 0)) fail(`field "normEps" must be positive, received ${c.normEps}`);
  if (!(c.ropeTheta > 0)) fail(`field "ropeTheta" must be positive, received ${c.ropeTheta}`);
  return { ...c, ...(c.ropeScaling ? { ropeScaling: { ...c.ropeScaling } } : {}) };
}

/**
 * Parses `key=value` overrides (from `--set`) into a partial config, coercing each value to its field's type.
 * Unknown keys, missing `=` and values of the wrong type are errors naming the pair.
 */
export function parseConfigOverrides(pairs: readonly string[]): Partial<ModelConfig> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ModelConfigError(`--set ${pair}: expected key=value (e.g. nLayer=4)`);
    const key = pair.slice(0, eq).trim();
    const raw = pair.slice(eq + 1).trim();
    const kind = CONFIG_FIELDS[key as keyof ModelConfig];
    if (kind === undefined)
      throw new ModelConfigError(
        `--set ${pair}: unknown model field "${key}" (known: ${Object.keys(CONFIG_FIELDS).join(', ')})`,
      );
    if (kind === 'boolean') {
      if (raw !== 'true' && raw !== 'false')
        throw new ModelConfigError(`--set ${pair}: ${key} expects true or false, received "${raw}"`);
      out[key] = raw === 'true';
    } else if (kind === 'arch') {
      out[key] = raw;
    } else if (kind === 'ropeScaling') {
      try {
        out[key] = JSON.parse(raw);
      } catch {
        throw new ModelConfigError(
          `--set ${pair}: ${key} expects a JSON object such as {"type":"linear","factor":2}, received "${raw}"`,
        );
      }
    } else {
      const v = Number(raw);
      if (raw === '' || !Number.isFinite(v))
        throw new ModelConfigError(`--set ${pair}: ${key} expects a number, received "${raw}"`);
      out[key] = v;
    }
  }
  return out as Partial<ModelConfig>;
}
