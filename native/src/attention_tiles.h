// The tile-level building blocks of the fused attention kernels (attention.cc), one table per ISA, chosen at
// run time by attn_tile_ops() from best_isa(). attention.cc holds the FlashAttention-2 loop structure and
// calls only these; attention_tiles.cc implements each entry twice: portable scalar and AVX-512.
//
// Vocabulary: a tile is a small row-major matrix whose rows are `N` floats (N a multiple of 16, one or more
// AVX-512 vectors: the "lanes"). Scores are in log2 units (the query is pre-multiplied by scale * log2(e)),
// so probabilities are exp2(score - max). Masked scores are -inf; exp2(-inf) is exactly 0.
#pragma once
#include <cstdint>

namespace lf {

struct AttnTileOps {
  // C[x*N + n] = sum_{d<D} A[x*lda + d] * Bt[d*N + n] for x < na, n < N. Bt is the stationary operand,
  // transposed once per task; A rows are read in place.
  void (*nt)(const float* A, int64_t lda, int64_t na, int64_t D, const float* Bt, int64_t N, float* C);
  // C[x*ldc + e] += sum_{y<Y} W[y*ldw + x] * R[y*ldr + e] for x < X, e < D (a GEMM C += W^T R).
  void (*acc)(float* C, int64_t ldc, int64_t X, int64_t D, const float* W, int64_t ldw, int64_t Y,
              const float* R, int64_t ldr);
  // C[x*ldc + e] += sum_{y<Y} W[x*ldw + y] * R[y*ldr + e] for x < X, e < D (a GEMM C += W R).
  void (*acc_rows)(float* C, int64_t ldc, int64_t X, int64_t D, const float* W, int64_t ldw, int64_t Y,
                   const float* R, int64_t ldr);
  // T[d*N + j] = c * A[j*lda + d] for j < na, d < D, and 0 for na <= j < N: a block of rows transposed into lanes.
  void (*transpose)(const float* A, int64_t lda, int64_t na, int64_t D, float c, float* T, int64_t N);
  // C[x*ldc + e] *= alpha[x] for x < X, e < D.
  void (*scale_rows)(float* C, int64_t ldc, int64_t X, int64_t D, const float* alpha);
  // S[j*N + r] = sum_{d<D} Q[r*ldq + d] * K[j*ldk + d] for r < R <= 4, j < nk: the scores of a few query rows
  // (decode), reading each key once, contiguously. Lanes r >= R are left as they are.
  void (*dots)(const float* Q, int64_t ldq, int64_t R, int64_t D, const float* K, int64_t ldk, int64_t nk, float* S,
               int64_t N);
  // Lanes are query rows, tile rows are keys j0 + jj (jj < nk): S[jj*N + n] = -inf unless key j0 + jj <= pos[n]
  // and (segk == nullptr or segk[jj] == segq[n]). segk points at the segment id of key j0.
  void (*mask_lanes_rows)(float* S, int64_t nk, int64_t N, int64_t j0, const int32_t* pos, const int32_t* segq,
                          const int32_t* segk);
  // Lanes are keys j0 + n, tile rows are query rows r < nr: S[r*N + n] = -inf unless n < nk, j0 + n <= pos[r]
  // and (segk == nullptr or segk[n] == segq[r]).
  void (*mask_lanes_keys)(float* S, int64_t nr, int64_t N, int64_t nk, int64_t j0, const int32_t* pos,
                          const int32_t* segq, const int32_t* segk);
  // Online-softmax step, lanes are query rows: with the block max mb[n] over jj < nk and mn = max(m, mb):
  // S <- exp2(S - mn), alpha = exp2(m - mn), l <- l * alpha + colsum(S), m <- mn (rows with mn = -inf stay
  // at 0).
  void (*online_update)(float* S, int64_t nk, int64_t N, float* m, float* l, float* alpha);
  // Softmax backward, lanes are query rows: P = exp2(S - lse2[n]); dP <- P * (dP - delta[n]) for jj < nk.
  void (*grad_lanes_rows)(const float* S, float* dP, int64_t nk, int64_t N, const float* lse2, const float* delta);
  // Softmax backward, lanes are keys: S <- P = exp2(S - lse2[r]); dP <- P * (dP - delta[r]) for r < nr.
  void (*grad_lanes_keys)(float* S, float* dP, int64_t nr, int64_t N, const float* lse2, const float* delta);
};

// The table for best_isa() (AVX-512 when available and allowed by LLMFORGE_ISA, else scalar).
const AttnTileOps& attn_tile_ops();

}  // namespace lf
