package io.gpupool.operator.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.api.v1alpha1.QueuedReplica;
import io.gpupool.operator.queue.InferenceAdmission.Slot;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplicaSlotsTest {
  private static final Instant ASKED = Instant.parse("2026-12-06T01:05:00Z");
  private static final Instant NOW = Instant.parse("2026-12-06T03:00:00Z");

  @Test
  void aReplicaJustEvictedIsRecordedWaitingInItsPlaceWithItsEvictionCounted() {
    List<QueuedReplica> first =
        ReplicaSlots.record(
            null,
            List.of(
                new Slot(1, false, ASKED, true), new Slot(2, true, ASKED.plusSeconds(60), false)),
            "team-a/urgent",
            NOW);
    assertThat(first).hasSize(2);
    QueuedReplica evicted = first.get(0);
    assertThat(evicted.slot).isEqualTo(1);
    assertThat(evicted.admitted).isFalse();
    assertThat(evicted.queuedSince).isEqualTo("2026-12-06T01:05:00Z");
    assertThat(evicted.preemptions).isEqualTo(1);
    assertThat(evicted.evictedFor).isEqualTo("team-a/urgent");
    assertThat(evicted.preemptedAt).isEqualTo("2026-12-06T03:00:00Z");
    assertThat(first.get(1).preemptions).isNull();

    // Admitted again, then evicted a second time: the count goes on, slot by slot.
    List<QueuedReplica> again =
        ReplicaSlots.record(first, List.of(new Slot(1, true, ASKED, false)), null, NOW);
    assertThat(again.get(0).admitted).isTrue();
    assertThat(again.get(0).preemptions).isEqualTo(1);
    assertThat(again.get(0).evictedFor).isEqualTo("team-a/urgent");
    List<QueuedReplica> twice =
        ReplicaSlots.record(
            again, List.of(new Slot(1, false, ASKED, true)), "team-a/other", NOW.plusSeconds(5));
    assertThat(twice.get(0).preemptions).isEqualTo(2);
    assertThat(twice.get(0).evictedFor).isEqualTo("team-a/other");
  }

  @Test
  void slotsNoLongerWantedLeaveTheListAndAnEmptiedListStaysAList() {
    List<QueuedReplica> before =
        ReplicaSlots.record(null, List.of(new Slot(1, false, ASKED, true)), "team-a/u", NOW);
    assertThat(ReplicaSlots.record(before, List.of(), null, NOW)).isEmpty();
    assertThat(ReplicaSlots.none(before)).isNotNull().isEmpty();
    assertThat(ReplicaSlots.none(null)).isNull();
  }
}
