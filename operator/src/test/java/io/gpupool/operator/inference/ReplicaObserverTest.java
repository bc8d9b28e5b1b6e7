package io.gpupool.operator.inference;

import static io.gpupool.operator.inference.Groups.group;
import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.SharingStrategy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class ReplicaObserverTest {
  private static final Instant NOW = Instant.parse("2026-12-06T02:00:00Z");
  private static final Duration GRACE = Duration.ofSeconds(60);
  private static final Duration DRAIN = Duration.ofSeconds(30);

  private static GpuNode node(String name, boolean ready, Instant notReadySince) {
    return new GpuNode(
        name,
        "p",
        "eu",
        "eu-1",
        "NVIDIA-A100",
        "ampere",
        8,
        0,
        1,
        81920,
        SharingStrategy.NONE,
        1,
        "nvidia.com/gpu",
        1,
        Map.of(),
        8000,
        1L << 34,
        ready,
        notReadySince,
        true);
  }

  private static Function<String, Optional<GpuNode>> nodes(GpuNode... known) {
    return name -> List.of(known).stream().filter(n -> n.name().equals(name)).findFirst();
  }

  @Test
  void sortsGroupsByWhatHappensToThemNext() {
    var serving = group(0, "h", "Running", true, "a", null);
    var failed = group(1, "h", "Failed", false, "a", null);
    var onGoneNode = group(2, "h", "Running", true, "gone", null);
    var drained = group(3, "h", "Running", true, "a", NOW.minusSeconds(31));
    var draining = group(4, "h", "Running", true, "a", NOW.minusSeconds(10));
    var seen =
        ReplicaObserver.observe(
            List.of(serving, failed, onGoneNode, drained, draining),
            nodes(node("a", true, null)),
            GRACE,
            DRAIN,
            NOW);
    assertThat(seen.active()).containsExactly(serving);
    assertThat(seen.lost())
        .extracting(ReplicaObserver.Loss::group, ReplicaObserver.Loss::nodeLost)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(failed, false),
            org.assertj.core.groups.Tuple.tuple(onGoneNode, true));
    assertThat(seen.lost().get(1).why()).isEqualTo("node gone is gone");
    assertThat(seen.drained()).containsExactly(drained);
    assertThat(seen.draining()).containsExactly(draining);
    assertThat(seen.recheck()).isEqualTo(Duration.ofSeconds(20)); // when the drain ends
  }

  @Test
  void aNotReadyNodeIsLostOnlyAfterTheGracePeriod() {
    var g = group(0, "h", "Running", true, "a", null);
    var suspect =
        ReplicaObserver.observe(
            List.of(g), nodes(node("a", false, NOW.minusSeconds(50))), GRACE, DRAIN, NOW);
    assertThat(suspect.active()).containsExactly(g);
    assertThat(suspect.lost()).isEmpty();
    assertThat(suspect.recheck()).isEqualTo(Duration.ofMillis(10_200));

    var lost =
        ReplicaObserver.observe(
            List.of(g), nodes(node("a", false, NOW.minusSeconds(60))), GRACE, DRAIN, NOW);
    assertThat(lost.lost()).singleElement().satisfies(l -> assertThat(l.nodeLost()).isTrue());
  }
}
