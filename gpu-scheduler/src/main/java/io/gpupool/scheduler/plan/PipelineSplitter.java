package io.gpupool.scheduler.plan;

import java.util.Arrays;

/**
 * Exact min-max split of L layers into S contiguous, non-empty stages for a fixed stage order (a
 * dynamic program in O(S·L²)).
 *
 * <p>Stage {@code s} holding layers {@code a..b} takes {@code Σ flops[a..b] / rate[s] +
 * transferAfter[s]} per micro-batch and must fit: {@code Σ stateBytes[a..b] + inFlight[s] · Σ
 * actBytes[a..b] <= memory[s]}. The result minimises the slowest stage.
 */
public final class PipelineSplitter {
  private static final double FIT_TOLERANCE = 1e-12;

  private PipelineSplitter() {}

  /**
   * A split: stage {@code s} holds layers {@code first[s]..last[s]} (inclusive).
   *
   * @param bottleneckSeconds the slowest stage's time per micro-batch
   */
  public record Split(int[] first, int[] last, double bottleneckSeconds) {
    @Override
    public String toString() {
      return Arrays.toString(first) + ".." + Arrays.toString(last) + " @ " + bottleneckSeconds;
    }
  }

  /** The optimal split, or null when no split fits every stage's memory. */
  public static Split split(
      double[] flops,
      double[] stateBytes,
      double[] actBytes,
      double[] rate,
      double[] memory,
      double[] inFlight,
      double[] transferAfter) {
    int layers = flops.length;
    int stages = rate.length;
    if (stages == 0 || stages > layers) {
      return null;
    }
    double[] pf = prefix(flops);
    double[] ps = prefix(stateBytes);
    double[] pa = prefix(actBytes);
    double inf = Double.POSITIVE_INFINITY;
    // best[s][j]: min bottleneck of stages 0..s covering layers 0..j; cut[s][j]: first layer of s.
    double[][] best = new double[stages][layers];
    int[][] cut = new int[stages][layers];
    for (double[] row : best) {
      Arrays.fill(row, inf);
    }
    for (int j = 0; j < layers; j++) {
      best[0][j] = stageTime(0, 0, j, pf, ps, pa, rate, memory, inFlight, transferAfter);
      cut[0][j] = 0;
    }
    for (int s = 1; s < stages; s++) {
      for (int j = s; j < layers; j++) {
        double b = inf;
        int c = -1;
        for (int a = j; a >= s; a--) { // stage s holds a..j
          double prev = best[s - 1][a - 1];
          if (prev >= b) {
            continue;
          }
          double t = stageTime(s, a, j, pf, ps, pa, rate, memory, inFlight, transferAfter);
          if (t >= b) {
            break; // stage s only gets slower (and fuller) as it takes more layers
          }
          double m = Math.max(prev, t);
          if (m < b) {
            b = m;
            c = a;
          }
        }
        best[s][j] = b;
        cut[s][j] = c;
      }
    }
    double total = best[stages - 1][layers - 1];
    if (total == inf) {
      return null;
    }
    int[] first = new int[stages];
    int[] last = new int[stages];
    int j = layers - 1;
    for (int s = stages - 1; s >= 0; s--) {
      last[s] = j;
      first[s] = cut[s][j];
      j = first[s] - 1;
    }
    return new Split(first, last, total);
  }

  /** Time of stage {@code s} holding layers {@code a..b}, or +∞ when they do not fit its memory. */
  static double stageTime(
      int s,
      int a,
      int b,
      double[] pf,
      double[] ps,
      double[] pa,
      double[] rate,
      double[] memory,
      double[] inFlight,
      double[] transferAfter) {
    double mem = (ps[b + 1] - ps[a]) + inFlight[s] * (pa[b + 1] - pa[a]);
    // A difference of prefix sums can exceed the layers' own sum by a few ulps; a range that fits
    // exactly must not be refused for that rounding (the property test found one).
    if (mem > memory[s] * (1 + FIT_TOLERANCE)) {
      return Double.POSITIVE_INFINITY;
    }
    return (pf[b + 1] - pf[a]) / rate[s] + transferAfter[s];
  }

  private static double[] prefix(double[] v) {
    double[] p = new double[v.length + 1];
    for (int i = 0; i < v.length; i++) {
      p[i + 1] = p[i] + v[i];
    }
    return p;
  }
}
