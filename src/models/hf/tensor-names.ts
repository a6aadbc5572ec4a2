/**
 * How llmforge parameter names and layouts correspond to Hugging Face checkpoint tensors. Llama-family names are
 * already Hugging Face's (`model.layers.0.self_attn.q_proj.weight`); a headless LlamaModel/Qwen2Model checkpoint
 * drops the `model.` prefix. GPT-2 names gain `transformer.` in GPT2LMHeadModel checkpoints (GPT2Model has none),
 * and GPT-2's Conv1D weights (attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj) are stored (in, out), the transpose
 * of our Linear (out, in). Non-parameter buffers that old checkpoints carry are listed so loading can skip them.
 */
import type { Arch } from '../model.ts';

const CONV1D = /\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/;

/** Buffers some checkpoints store that are not parameters (attention masks, rotary frequencies). */
export const IGNORED_BUFFERS = /(\.attn\.bias|\.attn\.masked_bias|\.rotary_emb\.inv_freq)$/;

/** The prefix of the decoder's tensors in a checkpoint: GPT-2 'transformer.' or '', Llama 'model.' or ''. */
export function detectPrefix(arch: Arch, names: ReadonlySet<string>): string | undefined {
  const [withPrefix, bare] =
    arch === 'gpt2' ? ['transformer.wte.weight', 'wte.weight'] : ['model.embed_tokens.weight', 'embed_tokens.weight'];
  if (names.has(withPrefix)) return arch === 'gpt2' ? 'transformer.' : 'model.';
  if (names.has(bare)) return '';
  return undefined;
}

/** The prefix llmforge writes when exporting (the *LMHeadModel / *ForCausalLM layout). */
export function exportPrefix(arch: Arch): string {
  return arch === 'gpt2' ? 'transformer.' : 'model.';
}

/** The checkpoint name of llmforge parameter `name` under `prefix`. */
export function hfName(arch: Arch, name: string, prefix: string): string {
  if (name === 'lm_head.weight') return name;
  if (arch === 'gpt2') return prefix + name;
  return name.startsWith('model.') ? prefix + name.slice('model.'.length) : name;
}

/** Whether the tensor is stored transposed relative to our (out, in) layout (GPT-2's Conv1D). */
export function isTransposed(arch: Arch, name: string): boolean {
  return arch === 'gpt2' && CONV1D.test(name);
}

/** Swaps a 2-D row-major (rows, cols) matrix into (cols, rows). */
export function transpose2d(src: ArrayLike<number>, rows: number, cols: number, dst: { [i: number]: number }): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) dst[c * rows + r] = src[base + c]!;
  }
}
