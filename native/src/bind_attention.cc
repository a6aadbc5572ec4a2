// N-API bindings for attention.h (argument orders = the Backend interface).
#include "attention.h"
#include "napi_args.h"

namespace lf {

void RegisterAttention(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}

}  // namespace lf
