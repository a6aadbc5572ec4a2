// Fused attention kernels: see attention.h.
#include "attention.h"

namespace lf {}  // namespace lf
