package io.gpupool.scheduler.queue;

import static io.gpupool.scheduler.queue.AdmissionOrderTest.A100;
import static io.gpupool.scheduler.queue.AdmissionOrderTest.RTX;
import static io.gpupool.scheduler.queue.AdmissionOrderTest.ids;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A gang is admitted on a flavor's quota only when that flavor's nodes could hold all its workers:
 * in {@code ./gpupool bench-queues} 4 × 4 consumer-GPU gangs were admitted on quota and held it
 * until their deadline, the pool having too few 4-GPU consumer machines.
 */
class NodeShapeAdmissionTest {
  private static final String RTX_GFD = "NVIDIA-GeForce-RTX-4090";

  /** Consumer nodes as the bench pool had them: mostly 1 and 2 GPUs, one machine with 4. */
  private static NodeShapes consumerPool() {
    NodeShapes shapes = new NodeShapes();
    for (int i = 0; i < 4; i++) {
      shapes.add(RTX_GFD, 1).add(RTX_GFD, 2);
    }
    return shapes.add(RTX_GFD, 4);
  }

  private static AdmissionBook consumerQueue(NodeShapes shapes) {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(
        QueueDefinition.of("team", null, List.of(Quota.of("consumer", RTX, 16)))
            .withStrategy(QueueingStrategy.STRICT_FIFO));
    book.nodeShapes(shapes);
    return book;
  }

  private static Workload gang(String id, long arrival, int workers, int perWorker) {
    return new Workload(id, "team", 0, arrival, workers * perWorker, Set.of(), 0, perWorker);
  }

  @Test
  void aGangNoNodeShapeCanHoldWaitsWithoutHoldingQuotaAndDoesNotBlockItsQueue() {
    AdmissionBook book = consumerQueue(consumerPool());
    book.offer(gang("four-by-four", 0, 4, 4));
    book.offer(gang("one-by-four", 1, 1, 4));
    book.offer(gang("eight-by-one", 2, 8, 1));
    CycleResult r = book.cycle(0);

    assertThat(ids(r)).containsExactly("one-by-four", "eight-by-one");
    assertThat(r.waiting().get("four-by-four"))
        .isEqualTo(
            "no node shape can hold it: 4 worker(s) of 4 GPU(s) on one node each, the pool's"
                + " consumer nodes hold 1 such worker(s) (largest node: 4 GPUs); it waits without"
                + " holding quota until the pool changes");
    assertThat(book.isPending("four-by-four")).isTrue();
    assertThat(BorrowingTest.usage(book, "team").inUse()).containsEntry("consumer", 12);
  }

  @Test
  void itIsAdmittedOnceTheNodesItNeedsHaveJoined() {
    NodeShapes shapes = consumerPool();
    AdmissionBook book = consumerQueue(shapes);
    book.offer(gang("four-by-four", 0, 4, 4));
    assertThat(book.cycle(0).admitted()).isEmpty();
    book.nodeShapes(consumerPool().add(RTX_GFD, 4).add(RTX_GFD, 8));
    assertThat(ids(book.cycle(1))).containsExactly("four-by-four");
  }

  @Test
  void aWorkerTooLargeForEveryNodeWaitsEvenWhenTheFlavorHasGpusEnough() {
    AdmissionBook book = consumerQueue(consumerPool());
    book.offer(gang("one-by-eight", 0, 1, 8));
    assertThat(book.cycle(0).waiting().get("one-by-eight"))
        .contains("1 worker(s) of 8 GPU(s)")
        .contains("hold 0 such worker(s) (largest node: 4 GPUs)");
  }

  @Test
  void theGangTakesTheNextFlavorWhoseNodesCanHoldIt() {
    AdmissionBook book = new AdmissionBook();
    book.putQueue(
        QueueDefinition.of(
            "team", null, List.of(Quota.of("consumer", RTX, 16), Quota.of("a100", A100, 16))));
    book.nodeShapes(consumerPool().add("NVIDIA-A100-SXM4-80GB", 8).add("NVIDIA-A100-SXM4-80GB", 8));
    book.offer(gang("four-by-four", 0, 4, 4));
    CycleResult r = book.cycle(0);
    assertThat(r.admitted()).singleElement().extracting(Admission::flavor).isEqualTo("a100");
  }

  @Test
  void productsAreComparedAsTheCatalogSpellsThemAndOnlyTheJobsOwnCount() {
    AdmissionBook book = new AdmissionBook();
    Set<String> both = Set.of(RTX_GFD, "NVIDIA-GeForce-RTX-3090");
    book.putQueue(QueueDefinition.of("team", null, List.of(Quota.of("consumer", both, 16))));
    book.nodeShapes(new NodeShapes().add("GeForce RTX 3090", 4).add(RTX_GFD, 2));
    book.offer(gang("on-3090", 0, 1, 4).withProducts(Set.of("NVIDIA-GeForce-RTX-3090")));
    book.offer(gang("on-4090", 1, 1, 4).withProducts(Set.of(RTX_GFD)));
    CycleResult r = book.cycle(0);
    assertThat(ids(r)).containsExactly("on-3090");
    assertThat(r.waiting()).containsKey("on-4090");
  }

  @Test
  void withoutKnownNodesQuotaAloneDecides() {
    AdmissionBook book = consumerQueue(null);
    book.offer(gang("four-by-four", 0, 4, 4));
    assertThat(ids(book.cycle(0))).containsExactly("four-by-four");
  }

  @Test
  void aGangIsWholeWorkers() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new Workload("odd", "team", 0, 0, 6, Set.of(), 0, 4))
        .hasMessageContaining("6 GPUs are not whole workers of 4 GPUs");
  }
}
