// What native/sampler.cc offers the rest of the addon (native/steps.cc, which samples inside its own loop):
// the rows sampler's arguments, their check and the sampling itself, without the N-API glue.

#pragma once

#include <cstddef>
#include <cstdint>

namespace tms {
namespace rows {

/** One instance's record in the Int32Array of arguments (src/core/sampler/native.ts mirrors it). */
enum Rec {
  SEEDS = 0, TM1 = 16, C_BITS = 17, DENSE_AT = 18, LIST_AT = 19, BLOCKS_AT = 20, N_OUT = 21,
  GEOMETRIC = 22,  // 1: the geometric scheme (p below MASK_MIN_P), with ln(1 − p) as a double at LOG_Q
  LOG_Q = 24, REC = 26
};
/** The arguments' header: how many instances, B, F, the byte offset of the logarithm table (spec.ts LN_TABLE). */
enum Head { COUNT = 0, NB = 1, NF = 2, LN_TABLE_AT = 3, HEAD = 4 };

/** What is wrong with `length` words of rows-sampler arguments for a memory of memLen bytes, or nullptr. */
const char *check(const int32_t *args, size_t length, size_t memLen);
/** Samples the records' instances (arguments that passed `check`); writes each one's N_OUT. */
void sample(int32_t *args, char *mem);

}  // namespace rows

/** Whether this build has the native sampler (AVX-512 F and VL, BMI2). */
extern const bool HAS_SAMPLER;

}  // namespace tms
