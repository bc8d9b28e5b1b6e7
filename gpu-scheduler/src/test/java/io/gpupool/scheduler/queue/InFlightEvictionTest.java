package io.gpupool.scheduler.queue;

import static io.gpupool.scheduler.queue.AdmissionOrderTest.ids;
import static io.gpupool.scheduler.queue.AdmissionOrderTest.solo;
import static io.gpupool.scheduler.queue.VictimChoiceTest.victims;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * An eviction under way when the operator restarts: the new book, rebuilt from what the jobs'
 * status says, carries it on instead of choosing again.
 */
class InFlightEvictionTest {

  @Test
  void aRestoredEvictionIsNotMadeAgainAndItsPreemptorGetsTheGpus() {
    AdmissionBook before = VictimChoiceTest.fullOfLowPriority();
    before.offer(Workload.of("urgent", "q", 100, 3, 2));
    assertThat(victims(before.cycle(100_000))).containsExactly("low-a");

    // A restarted operator: the three runs hold GPUs, the preemptor waits, and low-a's status
    // says it is being evicted for urgent. The checkpoints it knew are gone.
    AdmissionBook after = new AdmissionBook();
    after.putQueue(solo("q", 6));
    for (String id : new String[] {"low-a", "low-b", "low-c"}) {
      after.restoreAdmitted(Workload.of(id, "q", 0, id.charAt(4) - 'a', 2), "a100", 0);
    }
    after.checkpointed("low-b", 10_000); // another victim would now look cheapest
    after.offer(Workload.of("urgent", "q", 100, 3, 2));
    after.restoreEviction("low-a", "urgent");

    CycleResult r = after.cycle(101_000);
    assertThat(r.preempted()).as("no second eviction").isEmpty();
    assertThat(ids(r)).as("urgent waits for its victim").isEmpty();
    assertThat(after.admitted("low-a").orElseThrow().evictedFor()).isEqualTo("urgent");

    after.requeue("low-a"); // its pods were removed at its deadline
    CycleResult left = after.cycle(161_000);
    assertThat(ids(left)).containsExactly("urgent");
    assertThat(left.preempted()).isEmpty();
    assertThat(after.isPending("low-a")).as("the victim is back in its queue").isTrue();
  }
}
