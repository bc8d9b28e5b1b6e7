package io.gpupool.scheduler.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ParameterDistanceTest {

  private static double[] vector(long seed, int n) {
    Random r = new Random(seed);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextGaussian();
    }
    return v;
  }

  @Test
  void identicalVectorsAreAtZero() {
    double[] v = vector(1, 100);
    assertThat(ParameterDistance.relative(v.clone(), v)).isZero();
  }

  @Test
  void theDistanceIsTheNormOfTheDifferenceOverTheCommittedNorm() {
    assertThat(ParameterDistance.relative(new double[] {3, 4}, new double[] {0, 8}))
        .isCloseTo(Math.sqrt(9 + 16) / 8, within(1e-15));
  }

  @Property(tries = 50)
  void scalingBothVectorsLeavesTheDistanceUnchanged(
      @ForAll @IntRange(min = 1, max = 300) int n,
      @ForAll @IntRange(min = -6, max = 6) int exponent,
      @ForAll long seed) {
    double scale = Math.pow(10, exponent);
    double[] a = vector(seed, n);
    double[] b = vector(seed + 1, n);
    double[] as = new double[n];
    double[] bs = new double[n];
    for (int i = 0; i < n; i++) {
      as[i] = a[i] * scale;
      bs[i] = b[i] * scale;
    }
    double d = ParameterDistance.relative(a, b);
    assertThat(ParameterDistance.relative(as, bs)).isCloseTo(d, within(1e-9 * Math.max(1, d)));
  }

  @Property(tries = 50)
  void roundingNoiseStaysFarBelowOneSgdStep(
      @ForAll @IntRange(min = 10, max = 300) int n, @ForAll long seed) {
    double[] committed = vector(seed, n);
    double[] noisy = committed.clone();
    double[] stepped = committed.clone();
    double[] gradient = vector(seed + 7, n);
    for (int i = 0; i < n; i++) {
      noisy[i] = Math.nextUp(noisy[i]); // one ulp: a different reduction order
      stepped[i] -= 0.02 * gradient[i]; // one skipped SGD step at lr 0.02
    }
    assertThat(ParameterDistance.relative(noisy, committed)).isLessThan(1e-12);
    assertThat(ParameterDistance.relative(stepped, committed)).isGreaterThan(1e-4);
  }

  @Test
  void nonFiniteOrMismatchedVectorsAreInfinitelyFarAndNeverWithin() {
    assertThat(ParameterDistance.relative(new double[] {Double.NaN}, new double[] {1}))
        .isInfinite();
    assertThat(
            ParameterDistance.relative(new double[] {1}, new double[] {Double.NEGATIVE_INFINITY}))
        .isInfinite();
    assertThat(ParameterDistance.relative(new double[] {1, 2}, new double[] {1})).isInfinite();
    assertThat(ParameterDistance.within(Double.POSITIVE_INFINITY, 1)).isFalse();
    assertThat(ParameterDistance.within(Double.NaN, 1)).isFalse();
    assertThat(ParameterDistance.within(1e-5, 1e-4)).isTrue();
    assertThat(ParameterDistance.within(1e-4, 1e-4)).isTrue();
  }

  @Test
  void aZeroCommittedVectorIsComparedAbsolutely() {
    assertThat(ParameterDistance.relative(new double[] {0, 0}, new double[] {0, 0})).isZero();
    assertThat(ParameterDistance.relative(new double[] {1e-3, 0}, new double[] {0, 0}))
        .isGreaterThan(1);
  }
}
