package io.gpupool.operator.allocation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AllocationLedgerTest {
  @Test
  void reservationsAndForeignPodsAddUpPerNode() {
    AllocationLedger ledger = new AllocationLedger();
    ledger.hold("TrainingJob/a/x", Map.of("n1", 2, "n2", 1));
    ledger.hold("TrainingJob/a/y", Map.of("n1", 1));
    ledger.observeForeign("kube/other", "n2", 3);
    assertThat(ledger.usedByNode()).containsEntry("n1", 3).containsEntry("n2", 4);
  }

  @Test
  void releasingNotifiesWaitersOnlyWhenSlotsFree() {
    AllocationLedger ledger = new AllocationLedger();
    AtomicInteger releases = new AtomicInteger();
    ledger.onRelease(releases::incrementAndGet);
    ledger.hold("j", Map.of("n1", 2));
    assertThat(releases).hasValue(0);
    ledger.hold("j", Map.of("n1", 2, "n2", 1));
    assertThat(releases).as("growing frees nothing").hasValue(0);
    ledger.hold("j", Map.of("n2", 1));
    assertThat(releases).as("moving off n1 frees its slots").hasValue(1);
    ledger.release("j");
    assertThat(releases).hasValue(2);
    ledger.release("j");
    assertThat(releases).as("releasing twice frees nothing").hasValue(2);
    assertThat(ledger.usedByNode()).isEmpty();
    ledger.observeForeign("ns/p", "n3", 1);
    ledger.observeForeign("ns/p", null, 0);
    assertThat(releases).hasValue(3);
  }

  @Test
  void aLivePodKeepsItsGpusWhenItsJobNoLongerReservesThem() {
    AllocationLedger ledger = new AllocationLedger();
    AtomicInteger releases = new AtomicInteger();
    ledger.onRelease(releases::incrementAndGet);
    ledger.hold("TrainingJob/a/x", Map.of("n1", 1));
    ledger.observeOwn("a/x-worker-0", "TrainingJob/a/x", "n1", 1);
    ledger.observeOwn("a/x-worker-1", "TrainingJob/a/x", "n2", 2);
    assertThat(ledger.usedByNode())
        .as("reservation and live pods of one job are the larger, not the sum")
        .containsEntry("n1", 1)
        .containsEntry("n2", 2);
    ledger.release("TrainingJob/a/x");
    assertThat(ledger.usedByNode())
        .as("a job released while its pods still live: their GPUs stay taken")
        .containsEntry("n1", 1)
        .containsEntry("n2", 2);
    assertThat(ledger.holdings()).containsKey("TrainingJob/a/x");
    int before = releases.get();
    ledger.observeOwn("a/x-worker-1", "TrainingJob/a/x", "n2", 0);
    assertThat(releases).as("the pod ending frees its GPUs").hasValue(before + 1);
    ledger.observeOwn("a/x-worker-0", "TrainingJob/a/x", null, 0);
    assertThat(ledger.usedByNode()).isEmpty();
  }

  @Test
  void aPodEndingUnderAReservationWakesNobody() {
    AllocationLedger ledger = new AllocationLedger();
    AtomicInteger releases = new AtomicInteger();
    ledger.onRelease(releases::incrementAndGet);
    ledger.hold("j", Map.of("n1", 2));
    ledger.observeOwn("a/p", "j", "n1", 1);
    ledger.observeOwn("a/p", "j", "n1", 0);
    assertThat(releases).as("the reservation still holds n1").hasValue(0);
    assertThat(ledger.usedByNode()).containsEntry("n1", 2);
  }

  @Test
  void coverGrowsAReservationToWhatAPlacementNeedsAndNeverShrinksIt() {
    AllocationLedger ledger = new AllocationLedger();
    ledger.hold("j", Map.of("n1", 2));
    assertThat(ledger.cover("j", Map.of("n1", 1))).isFalse();
    assertThat(ledger.cover("j", Map.of("n1", 1, "n2", 1))).isTrue();
    assertThat(ledger.heldBy("j")).containsEntry("n1", 2).containsEntry("n2", 1);
    assertThat(ledger.cover("k", Map.of("n3", 1))).isTrue();
    assertThat(ledger.holds("k")).isTrue();
  }
}
