// Training speed as a speedometer shows it: steps per second over the last couple of seconds of compute
// time, so the figure tracks the current speed (after the kernels are compiled and the JIT has warmed up)
// rather than an average dragged down by the first slices. The whole run's average is kept too. Pure.

export class SpeedMeter {
  private readonly samples: { ms: number; step: number }[] = [];

  constructor(
    /** Width of the window, in milliseconds of compute time. */
    readonly windowMs = 2000,
  ) {}

  /** Records that `step` steps were done after `ms` milliseconds of compute time in total. */
  add(ms: number, step: number): void {
    this.samples.push({ ms, step });
    // keep one sample at or before the window's start, so the rate always spans the whole window
    while (this.samples.length > 2 && this.samples[1].ms <= ms - this.windowMs) this.samples.shift();
  }

  /** Steps per second over the window (over everything recorded while shorter); 0 before any time. */
  get current(): number {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last) return 0;
    const from = first.ms < last.ms ? first : { ms: 0, step: 0 };
    return last.ms > from.ms ? ((last.step - from.step) / (last.ms - from.ms)) * 1000 : 0;
  }

  /** Steps per second over the whole run. */
  get average(): number {
    const last = this.samples.at(-1);
    return last && last.ms > 0 ? (last.step / last.ms) * 1000 : 0;
  }
}
