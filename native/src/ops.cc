// Non-GEMM kernels: see ops.h.
#include "ops.h"

namespace lf {}  // namespace lf
