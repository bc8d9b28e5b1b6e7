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
}
