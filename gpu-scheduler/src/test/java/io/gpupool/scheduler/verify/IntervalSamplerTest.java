package io.gpupool.scheduler.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class IntervalSamplerTest {

  private static byte[] secret(long seed) {
    byte[] b = new byte[32];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void theSameSecretGivesTheSameChoicesAndAnotherSecretOthers() {
    IntervalSampler a = new IntervalSampler(secret(1), 0.5);
    IntervalSampler again = new IntervalSampler(secret(1), 0.5);
    IntervalSampler other = new IntervalSampler(secret(2), 0.5);
    int differing = 0;
    for (long step = 0; step < 200; step += 10) {
      assertThat(again.sampled("ns/job", step)).isEqualTo(a.sampled("ns/job", step));
      if (other.sampled("ns/job", step) != a.sampled("ns/job", step)) {
        differing++;
      }
    }
    // Without the secret the choices look like coin flips: about half of 20 differ.
    assertThat(differing).isBetween(3, 17);
  }

  @Test
  void choicesDependOnTheJob() {
    IntervalSampler s = new IntervalSampler(secret(3), 0.5);
    assertThat(s.draw("ns/a", 10)).isNotEqualTo(s.draw("ns/b", 10));
  }

  @Test
  void rateOneSamplesEveryInterval() {
    IntervalSampler s = new IntervalSampler(secret(4), 1.0);
    for (long step = 0; step < 1000; step += 10) {
      assertThat(s.sampled("ns/job", step)).isTrue();
    }
  }

  @Property(tries = 20)
  void theSampledShareIsTheRate(
      @ForAll @LongRange(min = 0, max = 1_000_000) long seed,
      @ForAll @DoubleRange(min = 0.01, max = 1.0) double rate) {
    IntervalSampler s = new IntervalSampler(secret(seed), rate);
    int n = 20_000;
    int sampled = 0;
    for (long step = 0; step < n; step++) {
      if (s.sampled("ns/job", step)) {
        sampled++;
      }
    }
    double sigma = Math.sqrt(n * rate * (1 - rate));
    // 5 sigma: a false failure once in ~3.5 million runs.
    assertThat((double) sampled).isBetween(n * rate - 5 * sigma - 1, n * rate + 5 * sigma + 1);
  }

  @Test
  void badSettingsAreRefused() {
    assertThatThrownBy(() -> new IntervalSampler(new byte[8], 0.5))
        .hasMessageContaining("16 bytes");
    assertThatThrownBy(() -> new IntervalSampler(secret(1), 0)).hasMessageContaining("(0, 1]");
    assertThatThrownBy(() -> new IntervalSampler(secret(1), 1.5)).hasMessageContaining("(0, 1]");
    assertThatThrownBy(() -> new IntervalSampler(secret(1), Double.NaN))
        .hasMessageContaining("(0, 1]");
  }

  @Test
  void theSecretIsCopied() {
    byte[] key = secret(5);
    IntervalSampler s = new IntervalSampler(key, 0.5);
    double before = s.draw("ns/job", 10);
    key[0] ^= 1;
    assertThat(s.draw("ns/job", 10)).isEqualTo(before);
  }
}
