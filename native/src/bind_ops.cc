// N-API bindings for the kernels of ops.h (argument orders = the Backend interface).
#include "napi_args.h"
#include "ops.h"

namespace lf {

void RegisterOps(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}

}  // namespace lf
