// The built-in element-wise activations written in the formula grammar (src/core/formula/).

/** Each built-in element-wise activation spelled out in the grammar (other spellings where they differ). */
export const BUILTIN_FORMULAS: Record<string, string[]> = {
  relu: ["max(x, 0)", "max(0, x)", "x > 0 ? x : 0"],
  leaky_relu: ["max(x, 0.01*x)", "x > 0 ? x : 0.01*x"],
  selu: ["1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * expm1(x))"],
  // PyTorch documents celu as max(0, x) + min(0, expm1(x)), whose tie rule gives 0 at 0; its kernel (elu's)
  // takes the lower branch there: celu′(0) = 1
  celu: ["x > 0 ? x : expm1(x)"],
  gelu: ["x*0.5*(1 + erf(x/sqrt(2)))"],
  sigmoid: ["1/(1 + exp(-x))"],
  hardsigmoid: ["max(0, min(1, x/6 + 0.5))"],
  silu: ["x*sigmoid(x)"],
  hardswish: ["x < -3 ? 0 : x < 3 ? x*(x + 3)/6 : x"],
  mish: ["x*tanh(softplus(x))"],
  softplus: ["x > 20 ? x : log1p(exp(x))"],
  tanh: ["tanh(x)"],
  hardtanh: ["max(-1, min(x, 1))"],
  elu: ["x > 0 ? x : expm1(x)"],
  hardshrink: ["abs(x) > 0.5 ? x : 0"],
  logsigmoid: ["log(sigmoid(x))"],
  exp: ["exp(x)"],
  exp_linear: ["x*exp(x)"],
  tanhshrink: ["x - tanh(x)"],
  relu6: ["min(max(x, 0), 6)"],
  relu2: ["max(x, 0)^2"],
  softshrink: ["x > 0.5 ? x - 0.5 : x < -0.5 ? x + 0.5 : 0"],
  softsign: ["x/(1 + abs(x))"],
};
