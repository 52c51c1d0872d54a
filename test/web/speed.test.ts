import { describe, expect, it } from "vitest";
import { SpeedMeter } from "../../web/src/speed.js";

describe("SpeedMeter", () => {
  it("reports the rate over the last window, and the whole run's average", () => {
    const m = new SpeedMeter(2000);
    expect(m.current).toBe(0);
    expect(m.average).toBe(0);
    // a slow first second (compilation, warm-up): 500 steps, then 3 000 steps/s
    m.add(1000, 500);
    expect(m.current).toBe(500);
    for (let t = 1100; t <= 5000; t += 100) m.add(t, 500 + 3 * (t - 1000));
    expect(m.current).toBeCloseTo(3000, 6);
    expect(m.average).toBeCloseTo(((500 + 3 * 4000) / 5000) * 1000, 6);
  });

  it("follows a slowdown within a window", () => {
    const m = new SpeedMeter(1000);
    for (let t = 0; t <= 3000; t += 50) m.add(t, 2 * t);
    for (let t = 3050; t <= 5000; t += 50) m.add(t, 6000 + (t - 3000));
    expect(m.current).toBeCloseTo(1000, 6);
  });

  it("survives a single sample and equal times", () => {
    const m = new SpeedMeter();
    m.add(0, 0);
    expect(m.current).toBe(0);
    m.add(0, 0);
    expect(m.current).toBe(0);
  });
});
