// Batch-1 decoding kernels (one token through a block per call): the whole pre-norm block of GPT-2 (ln_1 -> qkv
// GEMV -> KV-cache append -> cached attention -> c_proj -> residual -> ln_2 -> c_fc GEMV -> GELU -> c_proj ->
// residual) or of Llama (RMSNorm -> q/k/v GEMVs -> RoPE on q and k -> KV-cache append -> cached grouped-query
// attention -> o_proj -> residual -> RMSNorm -> gate/up GEMVs -> SiLU(gate) * up -> down -> residual) and the
// output end (final norm -> head GEMV) run inside one native call each, on preallocated scratch, so a decoded
// token costs nLayer + 1 calls instead of dozens of small ops. Weights are (N, K) row-major (the
// PyTorch Linear layout), either fp32 (then the GEMVs are the same sgemm calls `linear` makes, so results equal
// the op-by-op path) or bfloat16 (DecodeWeight.bf16: in effect weight-only rounding, as the activations enter as
// two bf16 halves carrying ~16 mantissa bits and sums stay fp32; half the bytes streamed per token). Dimension letters: C channels, H heads, D head size, F MLP
// hidden width, V vocab, N rows of a weight, K its columns; Llama adds Hkv key/value heads, and its D is an input
// (not C / H) as are the RoPE cos/sin of the position, so head size and RoPE scaling stay the caller's choice.
#pragma once
#include <cstdint>

namespace lf {

struct DecodeWeight {
  const void* data;  // (N, K): float, or uint16_t bfloat16 bits when bf16
  bool bf16;
};

struct GptBlockWeights {
  const float* ln1_w;
  const float* ln1_b;  // may be null (bias-free configs), as every bias below
  DecodeWeight attn;   // (3C, C)
  const float* attn_b;
  DecodeWeight attn_proj;  // (C, C)
  const float* attn_proj_b;
  const float* ln2_w;
  const float* ln2_b;
  DecodeWeight fc;  // (F, C)
  const float* fc_b;
  DecodeWeight mlp_proj;  // (C, F)
  const float* mlp_proj_b;
};

// A Llama block (Hugging Face LlamaDecoderLayer): RMSNorms without bias; q/k/v biases only where the config has
// them (Qwen2), the others with config.bias.
struct LlamaBlockWeights {
  const float* ln1_w;  // input_layernorm (C)
  DecodeWeight q;      // (H D, C)
  const float* q_b;    // may be null, as every bias below
  DecodeWeight k;      // (Hkv D, C)
  const float* k_b;
  DecodeWeight v;  // (Hkv D, C)
  const float* v_b;
  DecodeWeight o;  // (C, H D)
  const float* o_b;
  const float* ln2_w;  // post_attention_layernorm (C)
  DecodeWeight gate;   // (F, C)
  const float* gate_b;
  DecodeWeight up;  // (F, C)
  const float* up_b;
  DecodeWeight down;  // (C, F)
  const float* down_b;
};

// Sizes of a Llama block; D even, H a multiple of Hkv.
struct LlamaBlockShape {
  int64_t C, H, Hkv, D, F;
  float eps;  // of both RMSNorms
};

// y (N) = bias + W x, x (K); bias may be null.
void decode_gemv(const DecodeWeight& W, const float* bias, const float* x, float* y, int64_t N, int64_t K);

// x (C) <- x after one block at absolute position `pos`; k_cache, v_cache (capacity, H, D) of this layer get
// position pos's key and value, and attention reads positions 0..pos.
void gpt_decode_block(float* x, const GptBlockWeights& w, float* k_cache, float* v_cache, int64_t pos, int64_t C,
                      int64_t H, int64_t F, float eps);

// x (C) <- x after one Llama block at absolute position `pos`; cos, sin (D/2) rotate this position's q and k
// (rotate-half pairing, the tables of the rope op); k_cache, v_cache (capacity, Hkv, D) of this layer get the
// rotated key and the value at pos, and attention reads positions 0..pos, query head h using kv head h / (H/Hkv).
void llama_decode_block(float* x, const LlamaBlockWeights& w, const LlamaBlockShape& s, const float* cos,
                        const float* sin, float* k_cache, float* v_cache, int64_t pos);

// logits (V) = W rmsnorm(x) (no head bias); x (C) is left unchanged.
void llama_decode_head(const float* x, const float* norm_w, float eps, const DecodeWeight& W, float* logits,
                       int64_t V, int64_t C);

// logits (V) = W layernorm(x) (no head bias); x (C) is left unchanged.
void gpt_decode_head(const float* x, const float* ln_w, const float* ln_b, float eps, const DecodeWeight& W,
                     float* logits, int64_t V, int64_t C);

// dst[i] = bfloat16(src[i]) rounded to nearest even (NaN stays NaN), n elements.
void f32_to_bf16(const float* src, uint16_t* dst, int64_t n);

}  // namespace lf
