package io.gpupool.operator.watch;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StalledInformersTest {
  private static final Instant T0 = Instant.parse("2026-12-07T13:00:00Z");
  private final StalledInformers informers = new StalledInformers(Duration.ofMinutes(2));

  @Test
  void anInformerNotWatchingForThePatienceWithoutABreakIsStalled() {
    assertThat(informers.look(T0, Set.of("trainingjob/a/all"))).isEmpty();
    assertThat(informers.look(T0.plusSeconds(119), Set.of("trainingjob/a/all"))).isEmpty();
    assertThat(informers.look(T0.plusSeconds(120), Set.of("trainingjob/a/all")))
        .containsExactly("trainingjob/a/all");
  }

  @Test
  void anInformerSeenWatchingInBetweenStartsOver() {
    informers.look(T0, Set.of("trainingjob/a/all"));
    informers.look(T0.plusSeconds(100), Set.of());
    assertThat(informers.look(T0.plusSeconds(130), Set.of("trainingjob/a/all"))).isEmpty();
    assertThat(informers.look(T0.plusSeconds(250), Set.of("trainingjob/a/all")))
        .containsExactly("trainingjob/a/all");
  }

  @Test
  void eachInformerIsTimedOnItsOwn() {
    informers.look(T0, Set.of("trainingjob/a/all"));
    assertThat(
            informers.look(T0.plusSeconds(120), Set.of("trainingjob/a/all", "inferencejob/b/all")))
        .containsExactly("trainingjob/a/all");
  }
}
