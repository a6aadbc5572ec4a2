/**
 * Hugging Face `config.json` <-> llmforge `ModelConfig`. Reading maps GPT-2 (`n_embd`, `n_layer`, `n_head`,
 * `n_positions`, `n_inner`, `layer_norm_epsilon`, `tie_word_embeddings`) and the Llama family (llama, mistral,
 * qwen2: `hidden_size`, `intermediate_size`, `num_attention_heads`, `num_key_value_heads`, `rms_norm_eps`,
 * `max_position_embeddings`, `head_dim`, Qwen2's q/k/v biases, and the RoPE settings through hf-rope.ts: rope_theta
 * and linear or llama3 rope_scaling) and refuses, naming the field and the file, every setting llmforge does not
 * implement (other rope_scaling types, other activations, ...).
 * Writing produces the config `from_pretrained` expects for GPT2LMHeadModel, LlamaForCausalLM or Qwen2ForCausalLM.
 */
import { checkModelConfig, headSize } from '../config.ts';
import type { ModelConfig } from '../model.ts';
import type { SizeField } from '../model-size.ts';
import { hfRopeFields, readHfRope } from './hf-rope.ts';
import { UserError } from '../../util/user-error.ts';

/** A Hugging Face checkpoint llmforge cannot open (or a malformed one): one line naming the file and field. */
export class HfModelError extends UserError {}

type Json = Record<string, unknown>;

/** What a Hugging Face config says beyond the ModelConfig. */
export interface HfConfigInfo {
  modelType: 'gpt2' | 'llama' | 'mistral' | 'qwen2';
  /** The architectures entry (e.g. GPT2LMHeadModel), or undefined when the config has none. */
  architecture: string | undefined;
  bosTokenId: number | undefined;
  eosTokenId: number | number[] | undefined;
}

const GPT2_ARCHS = ['GPT2LMHeadModel', 'GPT2Model'];
const LLAMA_ARCHS: Record<string, string[]> = {
  llama: ['LlamaForCausalLM', 'LlamaModel'],
  mistral: ['MistralForCausalLM', 'MistralModel'],
  qwen2: ['Qwen2ForCausalLM', 'Qwen2Model'],
};

/** Maps a parsed Hugging Face config.json (`source` names the file in errors) to a validated ModelConfig. */
export function hfToModelConfig(doc: unknown, source: string): { config: ModelConfig; info: HfConfigInfo } {
  const fail = (msg: string): never => {
    throw new HfModelError(`${source}: ${msg}`);
  };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('expected a JSON object');
  const c = doc as Json;
  const int = (key: string, fallback?: number): number => {
    const v = c[key] ?? fallback;
    if (!(Number.isInteger(v) && (v as number) > 0))
      fail(`field "${key}" must be a positive integer, received ${JSON.stringify(c[key])}`);
    return v as number;
  };
  const num = (key: string, fallback: number): number => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v))
      fail(`field "${key}" must be a number, received ${JSON.stringify(c[key])}`);
    return v as number;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'boolean') fail(`field "${key}" must be true or false, received ${JSON.stringify(c[key])}`);
    return v as boolean;
  };
  const modelType = c.model_type;
  const archs = c.architectures;
  const architecture = Array.isArray(archs) && typeof archs[0] === 'string' ? archs[0] : undefined;
  const known = modelType === 'gpt2' ? GPT2_ARCHS : typeof modelType === 'string' ? LLAMA_ARCHS[modelType] : undefined;
  if (known === undefined) {
    fail(
      `model_type ${JSON.stringify(modelType)} (architectures ${JSON.stringify(archs)}) is not supported; llmforge reads gpt2, llama, mistral and qwen2`,
    );
  }
  if (architecture !== undefined && !known!.includes(architecture)) {
    fail(
      `architecture "${architecture}" is not supported for model_type ${modelType as string} (expected ${known!.join(' or ')})`,
    );
  }
  const idOf = (v: unknown): number | undefined => (Number.isInteger(v) ? (v as number) : undefined);
  const eos = c.eos_token_id;
  const info: HfConfigInfo = {
    modelType: modelType as HfConfigInfo['modelType'],
    architecture,
    bosTokenId: idOf(c.bos_token_id),
    eosTokenId: Array.isArray(eos) && eos.every(Number.isInteger) ? (eos as number[]) : idOf(eos),
  };
  let config: Partial<ModelConfig>;
  if (modelType === 'gpt2') {
    const act = c.activation_function ?? 'gelu_new';
    if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh')
      fail(`activation_function "${String(act)}" is not supported (llmforge's GPT-2 uses the tanh GELU, gelu_new)`);
    if (c.scale_attn_weights === false)
      fail('scale_attn_weights=false is not supported (attention is always scaled by 1/sqrt(head size))');
    if (c.scale_attn_by_inverse_layer_idx === true) fail('scale_attn_by_inverse_layer_idx=true is not supported');
    if (c.add_cross_attention === true) fail('add_cross_attention=true is not supported (decoder-only models only)');
    const C = int('n_embd');
    config = {
      arch: 'gpt2',
      vocabSize: int('vocab_size'),
      blockSize: int('n_positions', c.n_ctx as number),
      nLayer: int('n_layer'),
      nHead: int('n_head'),
      nKvHead: int('n_head'),
      nEmbd: C,
      mlpHidden: c.n_inner === null || c.n_inner === undefined ? 4 * C : int('n_inner'),
      dropout: 0,
      bias: true,
      normEps: num('layer_norm_epsilon', 1e-5),
      ropeTheta: 10000,
      tieEmbeddings: bool('tie_word_embeddings', true),
    };
  } else {
    const act = c.hidden_act ?? 'silu';
    if (act !== 'silu')
      fail(`hidden_act "${String(act)}" is not supported (llmforge's Llama family uses SwiGLU with silu)`);
    const rope = readHfRope(c, fail);
    const C = int('hidden_size');
    const H = int('num_attention_heads');
    const headDim = c.head_dim === undefined || c.head_dim === null ? C / H : int('head_dim'); // absent: hidden / heads
    const attnBias = modelType === 'llama' ? bool('attention_bias', false) : false;
    const mlpBias = modelType === 'llama' ? bool('mlp_bias', false) : false;
    if (attnBias !== mlpBias)
      fail(
        `attention_bias=${attnBias} with mlp_bias=${mlpBias} is not supported (llmforge has biases in every linear layer or in none)`,
      );
    let blockSize = int('max_position_embeddings');
    const slidingOn = modelType === 'mistral' || (modelType === 'qwen2' && c.use_sliding_window === true);
    if (slidingOn && Number.isInteger(c.sliding_window)) blockSize = Math.min(blockSize, c.sliding_window as number);
    config = {
      arch: 'llama',
      vocabSize: int('vocab_size'),
      blockSize,
      nLayer: int('num_hidden_layers'),
      nHead: H,
      nKvHead: int('num_key_value_heads', H),
      nEmbd: C,
      mlpHidden: int('intermediate_size'),
      dropout: 0,
      bias: attnBias,
      normEps: num('rms_norm_eps', 1e-6),
      ropeTheta: rope.ropeTheta,
      tieEmbeddings: bool('tie_word_embeddings', false),
      ...(modelType === 'qwen2' ? { qkvBias: true } : {}),
      ...(headDim !== C / H ? { headDim } : {}),
      ...(rope.ropeScaling ? { ropeScaling: rope.ropeScaling } : {}),
    };
  }
  return { config: checkModelConfig(config, source), info };
}

const HF_GPT2_KEYS: Record<SizeField, string> = {
  nLayer: 'n_layer',
  vocabSize: 'vocab_size',
  blockSize: 'n_positions',
  nEmbd: 'n_embd',
  mlpHidden: 'n_inner',
  headDim: 'n_embd',
  nHead: 'n_head',
  nKvHead: 'n_head',
};
const HF_LLAMA_KEYS: Record<SizeField, string> = {
  nLayer: 'num_hidden_layers',
  vocabSize: 'vocab_size',
  blockSize: 'max_position_embeddings',
  nEmbd: 'hidden_size',
  mlpHidden: 'intermediate_size',
  headDim: 'head_dim',
  nHead: 'num_attention_heads',
  nKvHead: 'num_key_value_heads',
};

/** The config.json key a ModelConfig size field comes from (for errors about sizes). */
export function hfFieldName(arch: ModelConfig['arch'], field: SizeField): string {
  return (arch === 'gpt2' ? HF_GPT2_KEYS : HF_LLAMA_KEYS)[field];
}

/** Token ids to record in the exported configs. */
export interface HfSpecialIds {
  bosTokenId?: number | undefined;
  eosTokenId?: number | number[] | undefined;
}

/** The Hugging Face config.json document for `cfg`, stored as `torchDtype` ('float32', 'float16', 'bfloat16'). */
export function modelConfigToHf(cfg: ModelConfig, ids: HfSpecialIds = {}, torchDtype = 'float32'): Json {
  const special: Json = {};
  if (ids.bosTokenId !== undefined) special.bos_token_id = ids.bosTokenId;
  if (ids.eosTokenId !== undefined) special.eos_token_id = ids.eosTokenId;
  if (cfg.arch === 'gpt2') {
    return {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      vocab_size: cfg.vocabSize,
      n_positions: cfg.blockSize,
      n_ctx: cfg.blockSize,
      n_embd: cfg.nEmbd,
      n_layer: cfg.nLayer,
      n_head: cfg.nHead,
      n_inner: cfg.mlpHidden,
      activation_function: 'gelu_new',
      layer_norm_epsilon: cfg.normEps,
      resid_pdrop: cfg.dropout,
      embd_pdrop: cfg.dropout,
      attn_pdrop: 0,
      initializer_range: 0.02,
      scale_attn_weights: true,
      tie_word_embeddings: cfg.tieEmbeddings,
      use_cache: true,
      ...special,
      torch_dtype: torchDtype,
    };
  }
  const qwen = cfg.qkvBias === true && !cfg.bias;
  return {
    architectures: [qwen ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
    model_type: qwen ? 'qwen2' : 'llama',
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.nEmbd,
    intermediate_size: cfg.mlpHidden,
    num_hidden_layers: cfg.nLayer,
    num_attention_heads: cfg.nHead,
    num_key_value_heads: cfg.nKvHead,
    head_dim: headSize(cfg),
    hidden_act: 'silu',
    max_position_embeddings: cfg.blockSize,
    rms_norm_eps: cfg.normEps,
    ...hfRopeFields(cfg),
    tie_word_embeddings: cfg.tieEmbeddings,
    attention_dropout: 0,
    initializer_range: 0.02,
    use_cache: true,
    ...(qwen
      ? { use_sliding_window: false, sliding_window: null, max_window_layers: cfg.nLayer }
      : { attention_bias: cfg.bias, mlp_bias: cfg.bias }),
    ...special,
    torch_dtype: torchDtype,
  };
}
