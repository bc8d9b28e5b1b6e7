package io.gpupool.scheduler.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class BisectionTest {

  @Property(tries = 300)
  void persistentDivergenceIsNarrowedToItsFirstStepInLogProbes(
      @ForAll @IntRange(min = 1, max = 5000) int length,
      @ForAll @IntRange(min = 1, max = 5000) int firstBad) {
    long lo = 1000;
    long hi = lo + length;
    long first = lo + Math.min(firstBad, length);
    List<Long> asked = new ArrayList<>();
    Bisection.Result r =
        Bisection.firstDiffering(
            lo,
            hi,
            s -> {
              asked.add(s);
              return s >= first;
            });
    assertThat(r.step()).isEqualTo(first);
    assertThat(r.probes()).isEqualTo(asked.size());
    assertThat(r.probes()).isLessThanOrEqualTo((int) Math.ceil(Math.log(length) / Math.log(2)));
    assertThat(asked).allSatisfy(s -> assertThat(s).isGreaterThan(lo).isLessThan(hi));
  }

  @Property(tries = 300)
  void anyPatternOfDisagreementYieldsAStepWhosePredecessorAgrees(
      @ForAll @IntRange(min = 1, max = 300) int length, @ForAll long seed) {
    Random random = new Random(seed);
    boolean[] differs = new boolean[length + 1];
    for (int i = 1; i < length; i++) {
      differs[i] = random.nextBoolean();
    }
    differs[0] = false;
    differs[length] = true;
    Bisection.Result r = Bisection.firstDiffering(0, length, s -> differs[(int) s]);
    assertThat(differs[(int) r.step()]).isTrue();
    assertThat(differs[(int) r.step() - 1]).isFalse();
  }

  @Test
  void aOneStepIntervalNeedsNoProbe() {
    Bisection.Result r =
        Bisection.firstDiffering(
            9,
            10,
            s -> {
              throw new AssertionError("asked " + s);
            });
    assertThat(r).isEqualTo(new Bisection.Result(10, 0));
  }

  @Test
  void anEmptyIntervalIsRefused() {
    assertThatThrownBy(() -> Bisection.firstDiffering(10, 10, s -> true))
        .hasMessageContaining("empty interval");
  }
}
