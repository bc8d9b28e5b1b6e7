package io.gpupool.scheduler.plan;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class PipelineSplitterTest {

  record Case(double[] flops, double[] state, double[] rate, double[] mem, double[] transfer) {}

  @Provide
  Arbitrary<Case> cases() {
    return Combinators.combine(
            Arbitraries.integers().between(1, 9), Arbitraries.integers().between(1, 4))
        .flatAs(
            (layers, stages) -> {
              int s = Math.min(stages, layers);
              Arbitrary<double[]> flops =
                  Arbitraries.doubles().between(1, 100).array(double[].class).ofSize(layers);
              Arbitrary<double[]> state =
                  Arbitraries.doubles().between(1, 10).array(double[].class).ofSize(layers);
              Arbitrary<double[]> rate =
                  Arbitraries.doubles().between(1, 20).array(double[].class).ofSize(s);
              Arbitrary<double[]> mem =
                  Arbitraries.doubles().between(5, 60).array(double[].class).ofSize(s);
              Arbitrary<double[]> tr =
                  Arbitraries.doubles().between(0, 5).array(double[].class).ofSize(s);
              return Combinators.combine(flops, state, rate, mem, tr).as(Case::new);
            });
  }

  // This seed produced an exact memory fit that the prefix-sum DP refused by a few ulps.
  @Property(tries = 400, seed = "4934108014653790014")
  void dynamicProgramEqualsBruteForce(@ForAll("cases") Case c) {
    int s = c.rate().length;
    double[] zeros = new double[c.flops().length];
    double[] inFlight = new double[s];
    java.util.Arrays.fill(inFlight, 1);
    double[] transfer = c.transfer().clone();
    transfer[s - 1] = 0;
    PipelineSplitter.Split split =
        PipelineSplitter.split(c.flops(), c.state(), zeros, c.rate(), c.mem(), inFlight, transfer);
    double brute = brute(c.flops(), c.state(), c.rate(), c.mem(), transfer, 0, 0);
    if (Double.isInfinite(brute)) {
      assertThat(split).isNull();
      return;
    }
    assertThat(split).isNotNull();
    assertThat(split.bottleneckSeconds())
        .isCloseTo(brute, org.assertj.core.data.Offset.offset(1e-9));
    // The returned split is contiguous, covers every layer once and fits memory.
    assertThat(split.first()[0]).isZero();
    assertThat(split.last()[s - 1]).isEqualTo(c.flops().length - 1);
    double worst = 0;
    for (int i = 0; i < s; i++) {
      assertThat(split.last()[i]).isGreaterThanOrEqualTo(split.first()[i]);
      if (i > 0) {
        assertThat(split.first()[i]).isEqualTo(split.last()[i - 1] + 1);
      }
      double f = 0;
      double m = 0;
      for (int l = split.first()[i]; l <= split.last()[i]; l++) {
        f += c.flops()[l];
        m += c.state()[l];
      }
      assertThat(m).isLessThanOrEqualTo(c.mem()[i] + 1e-9);
      worst = Math.max(worst, f / c.rate()[i] + transfer[i]);
    }
    assertThat(worst)
        .isCloseTo(split.bottleneckSeconds(), org.assertj.core.data.Offset.offset(1e-9));
  }

  /** Every composition of layers [from..] into stages [stage..]. */
  private static double brute(
      double[] f, double[] st, double[] rate, double[] mem, double[] tr, int from, int stage) {
    int layers = f.length;
    int stages = rate.length;
    if (stage == stages - 1) {
      return cost(f, st, rate, mem, tr, stage, from, layers - 1);
    }
    double best = Double.POSITIVE_INFINITY;
    for (int end = from; end <= layers - (stages - stage); end++) {
      double c = cost(f, st, rate, mem, tr, stage, from, end);
      best = Math.min(best, Math.max(c, brute(f, st, rate, mem, tr, end + 1, stage + 1)));
    }
    return best;
  }

  private static double cost(
      double[] f, double[] st, double[] rate, double[] mem, double[] tr, int s, int a, int b) {
    double fl = 0;
    double m = 0;
    for (int l = a; l <= b; l++) {
      fl += f[l];
      m += st[l];
    }
    return m > mem[s] ? Double.POSITIVE_INFINITY : fl / rate[s] + tr[s];
  }

  @Test
  void fasterStageGetsMoreLayers() {
    double[] f = {1, 1, 1, 1, 1, 1, 1, 1};
    double[] z = new double[8];
    PipelineSplitter.Split s =
        PipelineSplitter.split(
            f,
            z,
            z,
            new double[] {3, 1},
            new double[] {1e9, 1e9},
            new double[] {1, 1},
            new double[] {0, 0});
    assertThat(s.last()[0] - s.first()[0] + 1).isEqualTo(6);
    assertThat(s.bottleneckSeconds()).isEqualTo(2.0);
  }

  @Test
  void tooLittleMemoryIsInfeasible() {
    double[] f = {1, 1};
    double[] st = {10, 10};
    assertThat(
            PipelineSplitter.split(
                f,
                st,
                new double[2],
                new double[] {1, 1},
                new double[] {5, 50},
                new double[] {1, 1},
                new double[] {0, 0}))
        .isNull();
  }
}
