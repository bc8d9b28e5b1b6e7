package io.gpupool.billing.budget;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class DryPayerTrackerTest {
  static final String PAYER = "0x00000000000000000000000000000000000000a1";
  Instant now = Instant.parse("2026-01-01T00:00:00Z");
  final Clock clock =
      new Clock() {
        @Override
        public Instant instant() {
          return now;
        }

        @Override
        public ZoneId getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
          return this;
        }
      };
  final DryPayerTracker tracker = new DryPayerTracker(Duration.ofMinutes(10), clock);

  static BudgetVerdict check(boolean funded) {
    BigInteger z = BigInteger.ZERO;
    return new BudgetVerdict(PAYER, z, z, z, z, funded);
  }

  @Test
  void suspendsOnlyAfterAnUninterruptedGracePeriod() {
    assertThat(tracker.observe(check(true)).state()).isEqualTo(DryPayerTracker.State.FUNDED);
    DryPayerTracker.Decision d = tracker.observe(check(false));
    assertThat(d.state()).isEqualTo(DryPayerTracker.State.DRY_IN_GRACE);
    assertThat(d.suspendAt()).isEqualTo(now.plus(Duration.ofMinutes(10)));
    now = now.plus(Duration.ofMinutes(9));
    assertThat(tracker.observe(check(false)).state()).isEqualTo(DryPayerTracker.State.DRY_IN_GRACE);
    now = now.plus(Duration.ofMinutes(1));
    assertThat(tracker.observe(check(false)).state()).isEqualTo(DryPayerTracker.State.SUSPEND);
  }

  @Test
  void aTopUpResetsTheGracePeriod() {
    tracker.observe(check(false));
    now = now.plus(Duration.ofMinutes(9));
    assertThat(tracker.observe(check(true)).state()).isEqualTo(DryPayerTracker.State.FUNDED);
    now = now.plus(Duration.ofMinutes(2));
    DryPayerTracker.Decision d = tracker.observe(check(false));
    assertThat(d.state()).isEqualTo(DryPayerTracker.State.DRY_IN_GRACE);
    assertThat(d.drySince()).isEqualTo(now);
  }

  @Test
  void zeroGraceSuspendsAtOnce() {
    DryPayerTracker strict = new DryPayerTracker(Duration.ZERO, clock);
    assertThat(strict.observe(check(false)).state()).isEqualTo(DryPayerTracker.State.SUSPEND);
  }
}
