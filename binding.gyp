{
  "targets": [
    {
      "target_name": "llmforge_native",
      "sources": [
        "native/src/binding.cc",
        "native/src/thread_pool.cc",
        "native/src/gemm.cc",
        "native/src/gemm_scalar.cc",
        "native/src/gemm_avx2.cc",
        "native/src/gemm_avx512.cc",
        "native/src/gemm_amx.cc",
        "native/src/bind_gemm.cc",
        "native/src/ops.cc",
        "native/src/ops_reduce.cc",
        "native/src/ops_norm.cc",
        "native/src/ops_optim.cc",
        "native/src/ops_isa_scalar.cc",
        "native/src/ops_isa_avx2.cc",
        "native/src/ops_isa_avx512.cc",
        "native/src/bind_ops.cc",
        "native/src/attention.cc",
        "native/src/attention_tiles.cc",
        "native/src/attention_backward_groups.cc",
        "native/src/bind_attention.cc",
        "native/src/decode.cc",
        "native/src/bind_decode.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-math-errno", "-fno-trapping-math", "-pthread", "-Wno-maybe-uninitialized"],
      "ldflags": ["-pthread"]
    }
  ]
}
