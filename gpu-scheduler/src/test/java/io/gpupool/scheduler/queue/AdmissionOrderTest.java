package io.gpupool.scheduler.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AdmissionOrderTest {
  static final Set<String> A100 = Set.of("NVIDIA-A100-SXM4-80GB");
  static final Set<String> RTX = Set.of("NVIDIA-GeForce-RTX-4090");

  static QueueDefinition solo(String name, int gpus) {
    return QueueDefinition.of(name, null, List.of(Quota.of("a100", A100, gpus)));
  }

  static List<String> ids(CycleResult r) {
    return r.admitted().stream().map(Admission::workloadId).toList();
  }

  @Test
  void priorityFirstThenArrival() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(solo("q", 3));
    book.offer(Workload.of("old-low", "q", 0, 1, 1));
    book.offer(Workload.of("new-high", "q", 10, 3, 1));
    book.offer(Workload.of("mid-low", "q", 0, 2, 1));
    book.offer(Workload.of("late-low", "q", 0, 4, 1));

    List<String> positions = new ArrayList<>();
    book.positions((id, queue, pos) -> positions.add(pos + ":" + id));
    assertThat(positions).containsExactly("1:new-high", "2:old-low", "3:mid-low", "4:late-low");

    CycleResult r = book.cycle(100);
    assertThat(ids(r)).containsExactly("new-high", "old-low", "mid-low");
    assertThat(book.isPending("late-low")).isTrue();
    assertThat(r.waiting()).containsOnlyKeys("late-low");
  }

  @Test
  void strictFifoAdmitsNothingBehindABlockedHead() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(solo("q", 8).withStrategy(QueueingStrategy.STRICT_FIFO));
    book.offer(Workload.of("running", "q", 0, 0, 6));
    book.cycle(0);
    book.offer(Workload.of("big", "q", 0, 1, 4));
    book.offer(Workload.of("small", "q", 0, 2, 1));

    CycleResult r = book.cycle(10);
    assertThat(r.admitted()).isEmpty();
    assertThat(r.waiting()).containsOnlyKeys("big");
    assertThat(r.waiting().get("big")).contains("needs 4 a100 GPUs, 2 free");
  }

  @Test
  void bestEffortAdmitsWhatDoesNotTouchTheHeadsHold() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(solo("q", 8));
    book.offer(Workload.of("running", "q", 0, 0, 5));
    book.cycle(0);
    // Head needs 4, 3 are free: all 3 are held for it, a 1-GPU job of unknown length must wait.
    book.offer(Workload.of("big", "q", 0, 1, 4));
    book.offer(Workload.of("small", "q", 0, 2, 1));
    assertThat(book.cycle(10).admitted()).isEmpty();

    // With 10 free, the head takes 4 and the small one fits beside it.
    book.finish("running");
    assertThat(ids(book.cycle(20))).containsExactly("big", "small");
  }

  @Test
  void bestEffortSkipsAWorkloadOfAProductWithoutRoom() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(
        QueueDefinition.of("q", null, List.of(Quota.of("a100", A100, 2), Quota.of("rtx", RTX, 4))));
    book.offer(Workload.of("a-1", "q", 0, 1, 2).withProducts(A100));
    book.offer(Workload.of("a-2", "q", 0, 2, 2).withProducts(A100));
    book.offer(Workload.of("any", "q", 0, 3, 3));
    CycleResult r = book.cycle(0);
    // a-2 is the blocked head for a100; "any" takes the next flavor in the queue's order.
    assertThat(ids(r)).containsExactly("a-1", "any");
    assertThat(r.admitted().get(1).flavor()).isEqualTo("rtx");
    assertThat(r.admitted().get(1).products()).isEqualTo(RTX);
  }

  @Test
  void backfillsOnlyWorkloadsSureToEndBeforeTheHeadCanStart() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(solo("q", 16));
    // 12 GPUs busy until t=1000 (a bounded run), so the 16-GPU head can start at t=1000.
    book.offer(Workload.of("running", "q", 0, 0, 12).withRuntime(1000));
    book.cycle(0);
    book.offer(Workload.of("gang", "q", 0, 1, 16));
    book.offer(Workload.of("short", "q", 0, 2, 2).withRuntime(500));
    book.offer(Workload.of("long", "q", 0, 3, 2).withRuntime(5000));
    book.offer(Workload.of("unbounded", "q", 0, 4, 1));

    CycleResult r = book.cycle(100);
    assertThat(ids(r)).containsExactly("short");
    assertThat(r.waiting()).containsOnlyKeys("gang");
  }

  @Test
  void aGangAtTheHeadIsNotStarvedByAStreamOfOneGpuJobs() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(solo("q", 16));
    long arrival = 0;
    List<String> running = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      String id = "small-" + arrival;
      book.offer(Workload.of(id, "q", 0, arrival++, 1));
      running.add(id);
    }
    book.cycle(0);
    book.offer(Workload.of("gang", "q", 0, arrival++, 16));
    boolean gangAdmitted = false;
    for (int tick = 1; tick <= 40 && !gangAdmitted; tick++) {
      // One small job ends and two new ones arrive every tick: without a hold, they would keep
      // the pool full forever.
      book.finish(running.remove(0));
      for (int k = 0; k < 2; k++) {
        book.offer(Workload.of("small-" + arrival, "q", 0, arrival++, 1));
      }
      for (Admission a : book.cycle(tick).admitted()) {
        if (a.workloadId().equals("gang")) {
          gangAdmitted = true;
        } else {
          running.add(a.workloadId());
        }
      }
    }
    assertThat(gangAdmitted).as("16-GPU gang admitted once the running 1-GPU jobs ended").isTrue();
    assertThat(running).isEmpty();
  }

  @Test
  void aWorkloadNoQuotaCanCoverIsReportedAndDoesNotBlockStrictFifo() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(solo("q", 4).withStrategy(QueueingStrategy.STRICT_FIFO));
    book.offer(Workload.of("too-big", "q", 5, 0, 8));
    book.offer(Workload.of("wrong-gpu", "q", 5, 1, 1).withProducts(RTX));
    book.offer(Workload.of("fine", "q", 0, 2, 4));
    book.offer(Workload.of("lost", "nowhere", 0, 3, 1));
    CycleResult r = book.cycle(0);
    assertThat(ids(r)).containsExactly("fine");
    assertThat(r.inadmissible().get("too-big")).contains("can never hold more than 4");
    assertThat(r.inadmissible().get("wrong-gpu")).contains("no quota for GPU products");
    assertThat(r.inadmissible().get("lost")).isEqualTo("GpuQueue nowhere does not exist");
  }

  @Test
  void updatingAPendingWorkloadMovesIt() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(solo("q", 1));
    book.offer(Workload.of("a", "q", 0, 1, 1));
    book.offer(Workload.of("b", "q", 0, 2, 1));
    book.offer(Workload.of("b", "q", 5, 2, 1));
    assertThat(ids(book.cycle(0))).containsExactly("b");
    assertThat(book.offer(Workload.of("b", "q", 9, 2, 1))).isFalse();
    assertThat(book.pendingCount()).isEqualTo(1);
  }
}
