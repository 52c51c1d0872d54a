// A measurement probe, not part of tms-lab: how fast could a native (C, -march=native) step kernel run the
// small presets' shapes on this machine, against the generated WebAssembly kernel (128-bit lanes)? Same
// algorithms as src/core/kernels/wasm/kernel.ts — the dense path (lanes = samples, VW per block) and the
// Gram path (lanes = features) over the non-empty samples of a CSR batch, relu or GELU inline — written with
// GCC vector extensions so that one source builds at 4, 8 or 16 lanes (VW), to separate the effect of vector
// width from that of the compiler. Sampling and AdamW are not timed (the batch is pre-generated); the
// kernel's setup (M = W Wᵀ) and finish (∇W from C) are. Output: µs per instance and step.
//
//   gcc -O3 -march=native -DVW=16 -DNF=20 -DNH=5 bench/native-probe/step.c -lm -o /tmp/probe16
//   /tmp/probe16 relu 1,0.3,0.1,0.03
//
// Results and what they mean: docs/speed.md, "A native kernel for Node".

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef VW
#define VW 16
#endif
#ifndef NF
#define NF 20
#endif
#ifndef NH
#define NH 5
#endif
#define NV ((NF + VW - 1) / VW) // vectors per feature row (Gram path)
#define FP (NV * VW)            // padded feature count
#define B 1024
#define I 8

typedef float vf __attribute__((vector_size(VW * 4)));
typedef int32_t vi __attribute__((vector_size(VW * 4)));

static vf splat(float x) { return (vf){0} + x; }
static vf sel(vi m, vf a, vf b) { return (vf)((m & (vi)a) | (~m & (vi)b)); }

// eˣ for x ≤ 0 (GELU's Gaussian): n = round(x·log2 e), r = x − n·ln 2, degree-6 polynomial, 2ⁿ into the
// exponent field: the operation count of the WebAssembly kernel's vexp
static vf vexp_neg(vf x) {
  x = sel(x < splat(-87.f), splat(-87.f), x);
  vf t = x * 1.44269504f + 12582912.f; // 1.5·2²³: rounds to an integer in the low bits
  vf n = t - 12582912.f;
  vf r = x - n * 0.693145752f - n * 1.42860677e-6f;
  vf p = splat(1.f / 720) * r + 1.f / 120;
  p = p * r + 1.f / 24;
  p = p * r + 1.f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.f;
  p = p * r + 1.f;
  vi bits = (vi)p + ((vi)t << 23);
  return (vf)bits;
}

// activation and its derivative at z: relu, or GELU = z·Φ(z) with Φ from erfc (A&S 7.1.26-like, one division)
static void act(vf z, vf *y, vf *dy) {
#ifdef GELU
  vf az = sel(z < splat(0), -z, z);
  vf t = splat(1.f) / (splat(1.f) + 0.231641888f * az);
  vf g = vexp_neg(-0.5f * z * z); // e^{−z²/2}
  vf q = (((((splat(1.330274429f) * t - 1.821255978f) * t + 1.781477937f) * t - 0.356563782f) * t +
           0.319381530f) *
          t) *
         g * 0.398942280f; // 1 − Φ(|z|)
  vf phi = sel(z < splat(0), q, 1.f - q);
  *y = z * phi;
  *dy = phi + z * g * 0.398942280f;
#else
  vi pos = z > splat(0);
  *y = sel(pos, z, splat(0));
  *dy = sel(pos, splat(1), splat(0));
#endif
}

typedef struct {
  int rowStart[B + 1];
  int *feat;
  float *val;
} Csr;

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static double urand(void) {
  rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
  return (rs >> 11) * (1.0 / 9007199254740992.0);
}

static void sample(Csr *c, double p) {
  int n = 0;
  for (int s = 0; s < B; s++) {
    c->rowStart[s] = n;
    for (int f = 0; f < NF; f++)
      if (urand() < p) c->feat[n] = f, c->val[n] = (float)urand(), n++;
  }
  c->rowStart[B] = n;
}

typedef struct {
  float W[NF][NH], b[NF], imp[NF];
  float gW[NF][NH], gb[NF];
  double loss;
} Inst;

// ---- the Gram path: z = b + Σ_j M[:, j]·x_j over a sample's non-zeros; C[:, j] += dz·x_j ----
static void gram(Inst *in, const Csr *c) {
  static vf M[NF][NV], C[NF][NV], xd[NV];
  vf bv[NV], imp2[NV], lossv = {0}, gb[NV];
  float tmp[FP];
  for (int i = 0; i < NF; i++) {
    memset(tmp, 0, sizeof tmp);
    for (int j = 0; j < NF; j++) {
      float m = 0;
      for (int k = 0; k < NH; k++) m += in->W[i][k] * in->W[j][k];
      tmp[j] = m;
    }
    memcpy(M[i], tmp, sizeof tmp);
  }
  memset(C, 0, sizeof C);
  memset(xd, 0, sizeof xd);
  memset(tmp, 0, sizeof tmp);
  memcpy(tmp, in->b, sizeof in->b);
  memcpy(bv, tmp, sizeof bv);
  memset(tmp, 0, sizeof tmp);
  for (int f = 0; f < NF; f++) tmp[f] = 2 * in->imp[f] / B;
  memcpy(imp2, tmp, sizeof imp2);
  memset(gb, 0, sizeof gb);
  float *xs = (float *)xd;
  for (int s = 0; s < B; s++) {
    int e0 = c->rowStart[s], e1 = c->rowStart[s + 1];
    if (e0 == e1) continue;
    vf z[NV];
    for (int v = 0; v < NV; v++) z[v] = bv[v];
    for (int e = e0; e < e1; e++) {
      int j = c->feat[e];
      float x = c->val[e];
      xs[j] = x;
      for (int v = 0; v < NV; v++) z[v] += M[j][v] * x;
    }
    vf dz[NV];
    for (int v = 0; v < NV; v++) {
      vf y, dy;
      act(z[v], &y, &dy);
      vf d = y - xd[v];
      lossv += imp2[v] * d * d;
      dz[v] = imp2[v] * d * dy;
      gb[v] += dz[v];
    }
    for (int e = e0; e < e1; e++) {
      int j = c->feat[e];
      float x = c->val[e];
      xs[j] = 0;
      for (int v = 0; v < NV; v++) C[j][v] += dz[v] * x;
    }
  }
  // ∇W = (C + Cᵀ) W
  float *Cs = (float *)C;
  for (int f = 0; f < NF; f++)
    for (int k = 0; k < NH; k++) {
      float g = 0;
      for (int j = 0; j < NF; j++) g += (Cs[j * FP + f] + Cs[f * FP + j]) * in->W[j][k];
      in->gW[f][k] = g;
    }
  memcpy(tmp, gb, sizeof tmp);
  memcpy(in->gb, tmp, sizeof in->gb);
  double l = 0;
  for (int v = 0; v < VW; v++) l += lossv[v];
  in->loss = l;
}

// ---- the dense path: VW non-empty samples a block, one vector per feature ----
static void dense(Inst *in, const Csr *c) {
  static int rows[B];
  int n = 0;
  for (int s = 0; s < B; s++)
    if (c->rowStart[s + 1] > c->rowStart[s]) rows[n++] = s;
  static vf gW[NF][NH];
  vf gb[NF], lossv = {0};
  memset(gW, 0, sizeof gW);
  for (int f = 0; f < NF; f++) gb[f] = splat(0);
  for (int r0 = 0; r0 < n; r0 += VW) {
    vf X[NF];
    float *xs = (float *)X;
    memset(X, 0, sizeof X);
    for (int l = 0; l < VW && r0 + l < n; l++) {
      int s = rows[r0 + l];
      for (int e = c->rowStart[s]; e < c->rowStart[s + 1]; e++) xs[c->feat[e] * VW + l] = c->val[e];
    }
    vf h[NH], dh[NH], dz[NF];
    for (int k = 0; k < NH; k++) {
      h[k] = splat(0);
      dh[k] = splat(0);
    }
    for (int f = 0; f < NF; f++)
      for (int k = 0; k < NH; k++) h[k] += X[f] * in->W[f][k];
    for (int f = 0; f < NF; f++) {
      vf z = splat(in->b[f]);
      for (int k = 0; k < NH; k++) z += h[k] * in->W[f][k];
      vf y, dy;
      act(z, &y, &dy);
      vf d = y - X[f];
      float w = 2 * in->imp[f] / B;
      lossv += w * d * d;
      dz[f] = w * d * dy;
      gb[f] += dz[f];
      for (int k = 0; k < NH; k++) dh[k] += dz[f] * in->W[f][k];
    }
    for (int f = 0; f < NF; f++)
      for (int k = 0; k < NH; k++) gW[f][k] += dz[f] * h[k] + X[f] * dh[k];
  }
  for (int f = 0; f < NF; f++) {
    float g = 0;
    for (int v = 0; v < VW; v++) g += gb[f][v];
    in->gb[f] = g;
    for (int k = 0; k < NH; k++) {
      float w = 0;
      for (int v = 0; v < VW; v++) w += gW[f][k][v];
      in->gW[f][k] = w;
    }
  }
  double l = 0;
  for (int v = 0; v < VW; v++) l += lossv[v];
  in->loss = l;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  const char *ps = argc > 1 ? argv[1] : "1,0.3,0.1,0.03";
  const char *mode = argc > 2 ? argv[2] : "auto"; // auto: dense at p ≥ 0.5 (the demo's p = 1), else gram
  enum { NB = 16, CALLS = 300 };
  static Csr batches[NB];
  for (int k = 0; k < NB; k++) {
    batches[k].feat = malloc(sizeof(int) * B * NF);
    batches[k].val = malloc(sizeof(float) * B * NF);
  }
  static Inst inst[I];
  for (int i = 0; i < I; i++)
    for (int f = 0; f < NF; f++) {
      for (int k = 0; k < NH; k++) inst[i].W[f][k] = (float)(urand() - 0.5);
      inst[i].b[f] = 0.01f * (float)(urand() - 0.5);
      inst[i].imp[f] = powf(0.7f, f);
    }
  char buf[256];
  strncpy(buf, ps, sizeof buf - 1);
  for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
    double p = atof(tok);
    for (int k = 0; k < NB; k++) sample(&batches[k], p);
    if (strcmp(mode, "check") == 0) { // both paths on one batch must agree
      Inst a = inst[0], b = inst[0];
      gram(&a, &batches[0]);
      dense(&b, &batches[0]);
      double dmax = 0, gmax = 0;
      for (int f = 0; f < NF; f++)
        for (int k = 0; k < NH; k++) {
          dmax = fmax(dmax, fabs(a.gW[f][k] - b.gW[f][k]));
          gmax = fmax(gmax, fabs(a.gW[f][k]));
        }
      printf("p=%g loss gram %.9g dense %.9g; max |ΔgW| %.3g of max |gW| %.3g\n", p, a.loss, b.loss, dmax, gmax);
      continue;
    }
    int useDense = strcmp(mode, "dense") == 0 || (strcmp(mode, "auto") == 0 && p >= 0.5);
    static double times[CALLS];
    double sink = 0;
    for (int c = 0; c < CALLS; c++) {
      double t0 = now();
      for (int i = 0; i < I; i++) {
        const Csr *bt = &batches[(c + i) % NB];
        if (useDense) dense(&inst[i], bt);
        else gram(&inst[i], bt);
        sink += inst[i].loss;
      }
      times[c] = now() - t0;
    }
    qsort(times, CALLS, sizeof(double), cmp);
    printf("VW=%d F=%d H=%d %s p=%g %s: %.2f µs/instance (median; q25 %.2f)  [%g]\n", VW, NF, NH,
#ifdef GELU
           "gelu",
#else
           "relu",
#endif
           p, useDense ? "dense" : "gram", times[CALLS / 2] / I * 1e6, times[CALLS / 4] / I * 1e6, sink);
  }
  return 0;
}
