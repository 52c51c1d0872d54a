// native/wide-test.cc: the native kernel's 16-lane copy of every generated activation (kernel.h's tms_wide,
// which Elementwise runs heavy activations on with AVX-512) gives the 8-lane function's bits, lane by lane,
// for y and y'. Compiled by test/core/native-vmath.test.ts as scripts/build-native.mjs compiles the kernel,
// against the activations.gen.h it generated; prints one line per activation and exits 0 only if all agree.
//   g++ -O2 -march=native -ffp-contract=off -std=c++17 -I dist/native -I native native/wide-test.cc

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "kernel.h"

#ifndef TMS_WIDE
int main() {
  std::printf("no 16-lane copy on this CPU (AVX-512 F/DQ): nothing to compare\n");
  return 0;
}
#else
namespace {

std::vector<float> inputs() {
  std::vector<float> x;
  for (int i = -4000; i <= 4000; i++) x.push_back(float(i) / 200);  // [-20, 20]
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-40f, 88.5f, -88.5f, 100.0f, -100.0f, 1e30f, -1e30f,
                  INFINITY, -INFINITY, NAN})
    x.push_back(v);
  while (x.size() % 16) x.push_back(0.5f);
  return x;
}

long compare(const char *name, tms::ActFn narrow, tms::WideActFn wide) {
  const std::vector<float> x = inputs();
  long differ = 0;
  for (size_t i = 0; i < x.size(); i += 16) {
    vf a, b, ya, da, yb, db;
    std::memcpy(&a, &x[i], sizeof a);
    std::memcpy(&b, &x[i + 8], sizeof b);
    narrow(a, &ya, &da);
    narrow(b, &yb, &db);
    tms::vw y, d;
    wide(tms::joinWide(a, b), &y, &d);
    const vf got[4] = {tms::lowHalf(y), tms::highHalf(y), tms::lowHalf(d), tms::highHalf(d)};
    const vf want[4] = {ya, yb, da, db};
    for (int k = 0; k < 4; k++)
      if (std::memcmp(&got[k], &want[k], sizeof(vf)) != 0) differ++;
  }
  std::printf("%-12s %zu inputs: %s\n", name, x.size(), differ ? "DIFFERENT" : "identical");
  return differ;
}

}  // namespace

int main() {
  long bad = 0;
  int n = 0;
#define TMS_COMPARE(name) \
  bad += compare(#name, tms_act_##name, tms_wide::tms_act_##name); \
  n++;
  TMS_ACTIVATIONS(TMS_COMPARE)
  std::printf("%d activations, %s\n", n, bad ? "some differ" : "all identical");
  return bad ? 1 : 0;
}
#endif
