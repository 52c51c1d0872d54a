// The N-API glue the addon's translation units share (kernel.cc, sampler.cc, steps.cc): the error every
// entry point throws on bad arguments, the bounds check of an address in a memory, a typed array's elements.

#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>

namespace tms {

/** Throws a RangeError with code TMS_NATIVE; returns what the entry point returns then. */
inline napi_value fail(napi_env env, const char *message) {
  napi_throw_range_error(env, "TMS_NATIVE", message);
  return nullptr;
}

/** Whether [at, at + bytes) lies inside a memory of len bytes and `at` is a multiple of align. */
inline bool inside(size_t len, int64_t at, int64_t bytes, int64_t align) {
  return at >= 0 && bytes >= 0 && at % align == 0 && uint64_t(at + bytes) <= len;
}

/** The typed array's elements, if it is one of `type` with at least `atLeast` of them; else nullptr. */
template <typename T>
T *typedArray(napi_env env, napi_value value, napi_typedarray_type type, size_t atLeast, size_t *length) {
  napi_typedarray_type actual;
  void *data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &actual, length, &data, &buffer, &offset) != napi_ok ||
      actual != type || *length < atLeast)
    return nullptr;
  return static_cast<T *>(data);
}

}  // namespace tms
