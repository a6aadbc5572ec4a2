/**
 * How llmforge parameters become llama.cpp tensors. Names follow llama.cpp's conventions per architecture (gpt2:
 * token_embd, position_embd, blk.N.attn_norm, attn_qkv, attn_output, ffn_norm, ffn_up, ffn_down, output_norm,
 * output; llama: token_embd, blk.N.attn_norm, attn_q, attn_k, attn_v, attn_output, ffn_norm, ffn_gate, ffn_up,
 * ffn_down, output_norm, output). Dimensions are reversed (a PyTorch (out, in) weight is ggml [in, out]) with the
 * data unchanged. GGUF llama applies RoPE to adjacent pairs while our Llama rotates halves (Hugging Face's layout),
 * so the rows of each query/key head are permuted: new row 2i + j of a head is old row j * D/2 + i, which is what
 * llama.cpp's own Hugging Face converter does; `permuteRotary(..., inverse)` undoes it on import.
 */
import type { Arch } from '../../models/model.ts';

const GPT2_LAYER: Readonly<Record<string, string>> = {
  ln_1: 'attn_norm',
  'attn.c_attn': 'attn_qkv',
  'attn.c_proj': 'attn_output',
  ln_2: 'ffn_norm',
  'mlp.c_fc': 'ffn_up',
  'mlp.c_proj': 'ffn_down',
};

const LLAMA_LAYER: Readonly<Record<string, string>> = {
  input_layernorm: 'attn_norm',
  'self_attn.q_proj': 'attn_q',
  'self_attn.k_proj': 'attn_k',
  'self_attn.v_proj': 'attn_v',
  'self_attn.o_proj': 'attn_output',
  post_attention_layernorm: 'ffn_norm',
  'mlp.gate_proj': 'ffn_gate',
  'mlp.up_proj': 'ffn_up',
  'mlp.down_proj': 'ffn_down',
};

const GLOBAL: Readonly<Record<Arch, Readonly<Record<string, string>>>> = {
  gpt2: { wte: 'token_embd', wpe: 'position_embd', ln_f: 'output_norm', lm_head: 'output' },
  llama: { 'model.embed_tokens': 'token_embd', 'model.norm': 'output_norm', lm_head: 'output' },
};

/** The llama.cpp name of llmforge parameter `name`, or undefined when it has none. */
export function ggufName(arch: Arch, name: string): string | undefined {
  const m = /^(.*)\.(weight|bias)$/.exec(name);
  if (!m) return undefined;
  const [, module, kind] = m as unknown as [string, string, string];
  const global = GLOBAL[arch][module];
  if (global !== undefined) return `${global}.${kind}`;
  const layer = (arch === 'gpt2' ? /^h\.(\d+)\.(.+)$/ : /^model\.layers\.(\d+)\.(.+)$/).exec(module);
  if (!layer) return undefined;
  const part = (arch === 'gpt2' ? GPT2_LAYER : LLAMA_LAYER)[layer[2]!];
  return part === undefined ? undefined : `blk.${layer[1]}.${part}.${kind}`;
}

/** How many heads' rows a llama query/key tensor is permuted over (undefined for every other tensor). */
export function rotaryHeads(arch: Arch, name: string, nHead: number, nKvHead: number): number | undefined {
  if (arch !== 'llama') return undefined;
  if (/\.self_attn\.q_proj\.(weight|bias)$/.test(name)) return nHead;
  if (/\.self_attn\.k_proj\.(weight|bias)$/.test(name)) return nKvHead;
  return undefined;
}

/**
 * Reorders the rows of a (heads * D, cols) matrix (cols = 1 for a bias) from rotate-half pairing to adjacent
 * pairing, or back with `inverse`.
 */
export function permuteRotary(src: ArrayLike<number>, heads: number, cols: number, inverse = false): Float32Array {
  const rows = src.length / cols;
  const D = rows / heads;
  if (!Number.isInteger(D) || D % 2 !== 0)
    throw new RangeError(`permuteRotary: ${rows} rows do not split into ${heads} heads of an even size`);
  const half = D / 2;
  const out = new Float32Array(src.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const adjacent = (h * D + 2 * i + j) * cols;
        const halves = (h * D + j * half + i) * cols;
        const [to, from] = inverse ? [halves, adjacent] : [adjacent, halves];
        for (let c = 0; c < cols; c++) out[to + c] = src[from + c]!;
      }
    }
  }
  return out;
}
