package io.gpupool.scheduler.queue;

import static io.gpupool.scheduler.queue.AdmissionOrderTest.A100;
import static io.gpupool.scheduler.queue.AdmissionOrderTest.solo;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class VictimChoiceTest {
  static List<String> victims(CycleResult r) {
    return r.preempted().stream().map(Preemption::victimId).sorted().toList();
  }

  /** Three 2-GPU low-priority runs admitted at t=0 in an 6-GPU queue. */
  static AdmissionBook fullOfLowPriority() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(solo("q", 6));
    book.offer(Workload.of("low-a", "q", 0, 0, 2));
    book.offer(Workload.of("low-b", "q", 0, 1, 2));
    book.offer(Workload.of("low-c", "q", 0, 2, 2));
    book.cycle(0);
    return book;
  }

  @Test
  void evictsTheRunWhoseLastCheckpointIsNewest() {
    AdmissionBook book = fullOfLowPriority();
    book.checkpointed("low-a", 50_000);
    book.checkpointed("low-b", 90_000);
    book.checkpointed("low-c", 10_000);
    book.offer(Workload.of("urgent", "q", 100, 3, 2));
    CycleResult r = book.cycle(100_000);
    assertThat(victims(r)).containsExactly("low-b");
    assertThat(r.preempted().get(0).reason()).isEqualTo(Preemption.Reason.IN_QUEUE_PRIORITY);
  }

  @Test
  void evictsNoMoreThanNeeded() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(solo("q", 8));
    book.offer(Workload.of("one", "q", 0, 0, 1));
    book.offer(Workload.of("three", "q", 0, 1, 3));
    book.offer(Workload.of("four", "q", 0, 2, 4));
    book.cycle(0);
    book.checkpointed("one", 99_000); // cheapest per GPU, but alone it frees too little
    book.checkpointed("three", 60_000);
    book.checkpointed("four", 10_000);
    book.offer(Workload.of("urgent", "q", 100, 3, 3));
    // Greedy by lost work takes "one" then "three"; "one" turns out unnecessary and is spared.
    assertThat(victims(book.cycle(100_000))).containsExactly("three");
  }

  @Test
  void lowerPriorityGoesBeforeLessLostWork() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(solo("q", 4));
    book.offer(Workload.of("lowest", "q", 0, 0, 2));
    book.offer(Workload.of("middle", "q", 5, 1, 2));
    book.cycle(0);
    book.checkpointed("middle", 99_000);
    book.offer(Workload.of("urgent", "q", 10, 2, 2));
    assertThat(victims(book.cycle(100_000))).containsExactly("lowest");
  }

  @Test
  void equalOrHigherPriorityIsNeverEvictedWithinAQueue() {
    AdmissionBook book = fullOfLowPriority();
    book.offer(Workload.of("same", "q", 0, 3, 2));
    CycleResult r = book.cycle(1000);
    assertThat(r.preempted()).isEmpty();
    assertThat(r.waiting()).containsKey("same");
  }

  @Test
  void noEvictionWhenEvenAllCandidatesWouldNotFreeEnough() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(solo("q", 6));
    book.offer(Workload.of("high", "q", 50, 0, 4));
    book.offer(Workload.of("low", "q", 0, 1, 2));
    book.cycle(0);
    book.offer(Workload.of("urgent", "q", 10, 2, 6));
    assertThat(book.cycle(1).preempted()).isEmpty();
  }

  @Test
  void reclaimPrefersBorrowersThatLoseLeast() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(BorrowingTest.member("team-a", 4, null, null));
    book.putQueue(BorrowingTest.member("team-b", 2, null, null));
    book.putQueue(BorrowingTest.member("team-c", 2, null, null));
    book.offer(Workload.of("b-run", "team-b", 0, 0, 4));
    book.offer(Workload.of("c-run", "team-c", 0, 1, 4));
    book.cycle(0);
    book.checkpointed("b-run", 20_000);
    book.checkpointed("c-run", 80_000);
    book.offer(Workload.of("a-1", "team-a", 0, 2, 2));
    assertThat(victims(book.cycle(100_000))).containsExactly("c-run");
  }

  @Test
  void theVictimReturnsToItsQueueAndIsAdmittedAgainWhenRoomReturns() {
    AdmissionBook book = fullOfLowPriority();
    book.offer(Workload.of("urgent", "q", 100, 3, 2).withRuntime(1000));
    CycleResult r = book.cycle(10);
    String victim = r.preempted().get(0).victimId();
    book.requeue(victim);
    assertThat(AdmissionOrderTest.ids(book.cycle(20))).containsExactly("urgent");
    book.finish("urgent");
    assertThat(AdmissionOrderTest.ids(book.cycle(30))).containsExactly(victim);
    assertThat(book.usage().get(0).inUse()).containsEntry("a100", 6);
    assertThat(A100).isNotEmpty();
  }
}
