package io.gpupool.scheduler.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Cohort reclaim must not evict the same borrower again and again: an evicted workload that went
 * straight back onto borrowed GPUs was, being the most recently admitted (least work lost), the
 * first victim of the next reclaim — one 1-GPU job was evicted seven times in five minutes of
 * {@code ./gpupool bench-queues}.
 */
class ReclaimThrashTest {
  private static final long STEP = 5_000;

  /**
   * team-a (nominal 1) runs four long 1-GPU jobs, three of them on GPUs borrowed from team-b
   * (nominal 3); team-b gets a 1-GPU job every 30 s that runs 50 s. Evictions complete within one
   * step. Returns evictions per workload over five minutes, and asserts team-b's guarantee holds.
   */
  private static Map<String, Integer> fiveMinutesOfReclaim(AdmissionBook book) {
    book.putQueue(BorrowingTest.member("team-a", 1, null, null));
    book.putQueue(BorrowingTest.member("team-b", 3, null, null));
    for (int i = 1; i <= 4; i++) {
      book.offer(Workload.of("a-" + i, "team-a", 0, i, 1));
    }
    Map<String, Integer> evictions = new HashMap<>();
    Map<String, Long> endsAt = new HashMap<>();
    Map<String, Long> arrivedAt = new HashMap<>();
    List<String> leaving = new ArrayList<>();
    int next = 0;
    for (long now = 0; now <= 300_000 + STEP; now += STEP) {
      leaving.forEach(book::requeue);
      leaving.clear();
      for (var it = endsAt.entrySet().iterator(); it.hasNext(); ) {
        var e = it.next();
        if (e.getValue() <= now) {
          book.finish(e.getKey());
          it.remove();
        }
      }
      if (now > 0 && now < 300_000 && now % 30_000 == 0) {
        String id = "b-" + (++next);
        book.offer(Workload.of(id, "team-b", 0, now, 1));
        arrivedAt.put(id, now);
      }
      CycleResult r = book.cycle(now);
      for (Preemption p : r.preempted()) {
        evictions.merge(p.victimId(), 1, Integer::sum);
        leaving.add(p.victimId());
      }
      for (Admission a : r.admitted()) {
        Long arrived = arrivedAt.remove(a.workloadId());
        if (arrived != null) {
          // Within its nominal quota team-b waits no longer than its victim takes to leave.
          assertThat(now - arrived).as(a.workloadId()).isLessThanOrEqualTo(STEP);
          endsAt.put(a.workloadId(), now + 50_000);
        }
      }
    }
    assertThat(arrivedAt).as("team-b jobs never admitted").isEmpty();
    return evictions;
  }

  @Test
  void noBorrowerIsEvictedMoreThanTwiceInFiveMinutes() {
    Map<String, Integer> evictions = fiveMinutesOfReclaim(new AdmissionBook());
    assertThat(evictions).isNotEmpty();
    assertThat(evictions.values()).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(2));
  }

  @Test
  void aWorkloadEvictedTwiceWaitsOutItsBackoffBeforeBorrowingAgainButNotWithinNominalQuota() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(BorrowingTest.member("team-a", 2, null, null));
    book.putQueue(BorrowingTest.member("team-b", 2, null, null));
    book.offer(Workload.of("a-extra", "team-a", 5, 0, 1));
    book.offer(Workload.of("a-1", "team-a", 0, 1, 2));
    book.cycle(0);
    book.offer(Workload.of("b-1", "team-b", 0, 2, 2));
    assertThat(victims(book.cycle(1_000))).containsExactly("a-1");
    book.requeue("a-1");
    assertThat(AdmissionOrderTest.ids(book.cycle(2_000))).containsExactly("b-1");
    // The first eviction costs nothing: it borrows again as soon as the GPUs are free.
    book.finish("b-1");
    assertThat(book.borrowingBarredUntil("a-1")).isEmpty();
    assertThat(AdmissionOrderTest.ids(book.cycle(3_000))).containsExactly("a-1");

    book.offer(Workload.of("b-2", "team-b", 0, 3, 2));
    assertThat(victims(book.cycle(4_000))).containsExactly("a-1");
    assertThat(book.borrowingBarredUntil("a-1")).hasValue(4_000 + 120_000);
    book.requeue("a-1");
    assertThat(AdmissionOrderTest.ids(book.cycle(5_000))).containsExactly("b-2");
    book.finish("b-2");
    CycleResult early = book.cycle(6_000);
    assertThat(early.admitted()).isEmpty();
    assertThat(early.waiting().get("a-1"))
        .isEqualTo(
            "evicted 2 times: may borrow again from 1970-01-01T00:02:04Z; admitted at once within"
                + " GpuQueue team-a's nominal quota");

    // Within its own nominal quota it is admitted at once: the backoff only stops borrowing.
    book.finish("a-extra");
    assertThat(AdmissionOrderTest.ids(book.cycle(7_000))).containsExactly("a-1");
  }

  @Test
  void theBackoffEndsAndDoublesWithEachFurtherEviction() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(BorrowingTest.member("team-a", 0, null, null));
    book.putQueue(BorrowingTest.member("team-b", 1, null, null));
    book.offer(Workload.of("a-1", "team-a", 0, 1, 1));
    book.cycle(0);
    for (int i = 1; i <= 2; i++) {
      book.offer(Workload.of("b-" + i, "team-b", 0, 1 + i, 1));
      assertThat(victims(book.cycle(i * 1_000))).containsExactly("a-1");
      book.requeue("a-1");
      assertThat(AdmissionOrderTest.ids(book.cycle(i * 1_000 + 100))).containsExactly("b-" + i);
      book.finish("b-" + i);
      if (i == 1) {
        assertThat(AdmissionOrderTest.ids(book.cycle(1_200))).containsExactly("a-1");
      }
    }
    assertThat(book.cycle(121_999).admitted()).isEmpty();
    assertThat(AdmissionOrderTest.ids(book.cycle(122_000))).containsExactly("a-1");

    book.offer(Workload.of("b-3", "team-b", 0, 4, 1));
    assertThat(victims(book.cycle(130_000))).containsExactly("a-1");
    assertThat(book.borrowingBarredUntil("a-1")).hasValue(130_000 + 240_000);
    book.finish("a-1");
    assertThat(book.borrowingBarredUntil("a-1")).isEmpty();
  }

  @Test
  void aVictimEvictedBeforeIsSparedForOneNeverEvictedAtTheSamePriority() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(BorrowingTest.member("team-a", 0, null, null));
    book.putQueue(BorrowingTest.member("team-b", 2, null, null));
    book.offer(Workload.of("a-1", "team-a", 0, 1, 1));
    book.cycle(0);
    book.offer(Workload.of("b-1", "team-b", 0, 2, 2));
    assertThat(victims(book.cycle(1_000))).containsExactly("a-1");
    book.requeue("a-1");
    book.cycle(2_000);
    book.finish("b-1");
    book.offer(Workload.of("a-2", "team-a", 0, 3, 1));
    // Both admitted together: equal in all but a-1's earlier eviction (and a-1 sorts first by id).
    assertThat(AdmissionOrderTest.ids(book.cycle(3_000))).containsExactly("a-1", "a-2");
    book.offer(Workload.of("b-2", "team-b", 0, 4, 1));
    assertThat(victims(book.cycle(4_000))).containsExactly("a-2");
  }

  private static List<String> victims(CycleResult r) {
    return r.preempted().stream().map(Preemption::victimId).toList();
  }
}
