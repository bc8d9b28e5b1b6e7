package io.gpupool.operator.allocation;

import static io.gpupool.operator.allocation.JobPods.JOB;
import static io.gpupool.operator.allocation.JobPods.pod;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The ledger as the pod watch keeps it, against what a real kubelet and its device plugin count: a
 * deleted pod keeps its GPUs until its containers have stopped (its grace period), and the kubelet
 * refuses a pod for them meanwhile (UnexpectedAdmissionError).
 */
class PodLedgerEventsTest {

  private final AllocationLedger ledger = new AllocationLedger();
  private final PodLedgerEvents events = new PodLedgerEvents(ledger);

  /**
   * A job evicted (or stopped at its cost cap, or suspended) has its pods deleted and is placed
   * again: its new placement replaces its reservation and is planned without what the job held. Its
   * old pod, still stopping, must keep its GPU apart from the job, or the job is placed back onto
   * it (and so may another job be).
   */
  @Test
  void aDeletedPodStillStoppingKeepsItsGpusWhateverItsJobIsPlacedOnNext() {
    AtomicInteger releases = new AtomicInteger();
    ledger.onRelease(releases::incrementAndGet);
    ledger.hold(JOB, Map.of("n1", 1));
    Pod running = pod("llm-worker-0", "n1", 1, "Running", false);
    events.onAdd(running);
    Pod stopping = pod("llm-worker-0", "n1", 1, "Running", true);
    events.onUpdate(running, stopping);
    ledger.release(JOB);

    assertThat(ledger.usedByNode()).as("released, but the pod still stops").containsEntry("n1", 1);
    assertThat(ledger.byNode().on("n1").keySet())
        .as("held apart from its job, which a new placement of the job leaves out")
        .doesNotContain(JOB);

    ledger.hold(JOB, Map.of("n1", 1));
    assertThat(ledger.usedByNode())
        .as("the job placed again on n1 while its old pod stops there: both count")
        .containsEntry("n1", 2);

    int before = releases.get();
    events.onDelete(stopping, false);
    assertThat(ledger.usedByNode()).containsEntry("n1", 1);
    assertThat(releases).as("its GPU freed when the pod object is gone").hasValue(before + 1);
  }

  @Test
  void aDeletedPodThatEndedHoldsNothing() {
    Pod ended = pod("llm-worker-0", "n1", 1, "Succeeded", true);
    events.onAdd(ended);
    assertThat(ledger.usedByNode()).isEmpty();
  }

  @Test
  void aDeletedForeignPodKeepsItsGpusUntilItIsGone() {
    Pod foreign = pod("other", "n2", 1, "Running", true);
    events.onAdd(foreign);
    assertThat(ledger.usedByNode()).containsEntry("n2", 1);
    events.onDelete(foreign, false);
    assertThat(ledger.usedByNode()).isEmpty();
  }
}
