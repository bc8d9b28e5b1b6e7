package io.gpupool.scheduler.queue;

import static io.gpupool.scheduler.queue.AdmissionOrderTest.A100;
import static io.gpupool.scheduler.queue.AdmissionOrderTest.ids;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class BorrowingTest {
  static QueueDefinition member(String name, int nominal, Integer borrow, Integer lend) {
    return QueueDefinition.of(
        name, "cohort", List.of(new Quota("a100", A100, nominal, borrow, lend)));
  }

  static QueueUsage usage(AdmissionBook book, String queue) {
    return book.usage().stream().filter(u -> u.queue().equals(queue)).findFirst().orElseThrow();
  }

  @Test
  void anIdleQueuesQuotaIsBorrowedAndShownAsBorrowed() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(member("team-a", 4, null, null));
    book.putQueue(member("team-b", 4, null, null));
    book.offer(Workload.of("a-big", "team-a", 0, 0, 7));
    assertThat(ids(book.cycle(0))).containsExactly("a-big");
    QueueUsage a = usage(book, "team-a");
    assertThat(a.inUse()).containsEntry("a100", 7);
    assertThat(a.borrowed()).containsEntry("a100", 3);
    assertThat(a.admitted()).isEqualTo(1);
  }

  @Test
  void withoutACohortAQueueNeverExceedsItsNominalQuota() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(QueueDefinition.of("solo", null, List.of(Quota.of("a100", A100, 4))));
    book.putQueue(member("idle", 8, null, null));
    book.offer(Workload.of("five", "solo", 0, 0, 5));
    assertThat(book.cycle(0).inadmissible()).containsKey("five");
  }

  @Test
  void borrowingLimitCapsWhatAQueueTakes() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(member("team-a", 4, 2, null));
    book.putQueue(member("team-b", 8, null, null));
    book.offer(Workload.of("a-1", "team-a", 0, 0, 6));
    book.offer(Workload.of("a-huge", "team-a", 0, 1, 7));
    book.offer(Workload.of("a-2", "team-a", 0, 2, 1));
    CycleResult r = book.cycle(0);
    assertThat(ids(r)).containsExactly("a-1");
    assertThat(r.inadmissible().get("a-huge")).contains("can never hold more than 6");
    assertThat(r.waiting()).containsKey("a-2");
  }

  @Test
  void lendingLimitKeepsPartOfTheNominalQuotaForItsOwner() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(member("team-a", 4, null, null));
    book.putQueue(member("team-b", 8, null, 2));
    book.offer(Workload.of("a-greedy", "team-a", 0, 0, 7));
    book.offer(Workload.of("a-max", "team-a", 0, 1, 6));
    CycleResult r = book.cycle(0);
    assertThat(r.inadmissible()).containsKey("a-greedy");
    assertThat(ids(r)).containsExactly("a-max");
    // The 6 GPUs team-b does not lend stay free for it, without any preemption.
    book.offer(Workload.of("b-own", "team-b", 0, 2, 6));
    CycleResult next = book.cycle(1);
    assertThat(ids(next)).containsExactly("b-own");
    assertThat(next.preempted()).isEmpty();
  }

  @Test
  void aQueueWithinItsNominalQuotaReclaimsWhatItLent() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(member("team-a", 4, null, null));
    book.putQueue(member("team-b", 4, null, null));
    book.offer(Workload.of("b-1", "team-b", 0, 0, 3));
    book.offer(Workload.of("b-2", "team-b", 0, 1, 3));
    assertThat(ids(book.cycle(0))).containsExactly("b-1", "b-2");

    book.offer(Workload.of("a-1", "team-a", 0, 2, 4));
    CycleResult r = book.cycle(10);
    assertThat(r.admitted()).isEmpty();
    assertThat(r.preempted())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.preemptorId()).isEqualTo("a-1");
              assertThat(p.reason()).isEqualTo(Preemption.Reason.COHORT_RECLAIM);
              assertThat(p.victimQueue()).isEqualTo("team-b");
            });
    String victim = r.preempted().get(0).victimId();
    assertThat(book.admitted(victim).orElseThrow().evictedFor()).isEqualTo("a-1");

    // While the victim checkpoints and leaves, nothing else is evicted for a-1.
    CycleResult during = book.cycle(20);
    assertThat(during.preempted()).isEmpty();
    assertThat(during.waiting().get("a-1")).contains("waiting for 1 evicted workload");

    // Once it has left, a-1 takes the GPUs before the victim (back in its queue) can.
    book.requeue(victim);
    CycleResult after = book.cycle(30);
    assertThat(ids(after)).containsExactly("a-1");
    assertThat(book.isPending(victim)).isTrue();
  }

  @Test
  void aBorrowingQueueDoesNotReclaimAndReclaimCanBeTurnedOff() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(member("team-a", 4, null, null));
    book.putQueue(
        member("team-b", 4, null, null)
            .withPreemption(WithinQueuePreemption.NEVER, CohortReclaim.NEVER));
    book.offer(Workload.of("a-1", "team-a", 0, 0, 6));
    book.cycle(0);
    // team-b wants its nominal 4 back, but reclaim is off: it waits.
    book.offer(Workload.of("b-1", "team-b", 0, 1, 4));
    CycleResult r = book.cycle(1);
    assertThat(r.preempted()).isEmpty();
    assertThat(r.waiting()).containsKey("b-1");
  }

  @Test
  void aPeersHeldHeadDoesNotBlockWorkWithinNominalQuota() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(member("team-a", 4, null, null));
    book.putQueue(member("team-b", 4, null, null));
    book.offer(Workload.of("a-1", "team-a", 0, 0, 4));
    book.cycle(0);
    // a-2 would borrow all of team-b's quota; the free 4 are held for it...
    book.offer(Workload.of("a-2", "team-a", 0, 1, 8));
    book.offer(Workload.of("b-1", "team-b", 0, 2, 2));
    // ...but team-b is within its own nominal quota, which a borrower's hold cannot take.
    CycleResult r = book.cycle(1);
    assertThat(ids(r)).containsExactly("b-1");
  }
}
