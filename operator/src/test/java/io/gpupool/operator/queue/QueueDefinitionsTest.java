package io.gpupool.operator.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.QueuePreemption;
import io.gpupool.api.v1alpha1.ReclaimWithinCohort;
import io.gpupool.api.v1alpha1.WithinQueuePreemption;
import io.gpupool.scheduler.queue.CohortReclaim;
import io.gpupool.scheduler.queue.QueueDefinition;
import io.gpupool.scheduler.queue.QueueingStrategy;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QueueDefinitionsTest {
  @Test
  void defaultsAreTheCrdDefaults() {
    QueueDefinition d = QueueDefinitions.of(AdmissionControllerTest.queue("q", 4));
    assertThat(d.weight()).isEqualTo(1.0);
    assertThat(d.strategy()).isEqualTo(QueueingStrategy.BEST_EFFORT_FIFO);
    assertThat(d.withinQueue())
        .isEqualTo(io.gpupool.scheduler.queue.WithinQueuePreemption.LOWER_PRIORITY);
    assertThat(d.reclaim()).isEqualTo(CohortReclaim.ANY);
    assertThat(d.cohort()).isEqualTo("research");
    assertThat(d.quota("a100").orElseThrow().nominal()).isEqualTo(4);
  }

  @Test
  void policiesAndStrategyAreCarriedOver() {
    GpuQueue q = AdmissionControllerTest.queue("q", 4);
    q.getSpec().queueingStrategy = io.gpupool.api.v1alpha1.QueueingStrategy.StrictFIFO;
    q.getSpec().weight = 2.5;
    q.getSpec().preemption = new QueuePreemption();
    q.getSpec().preemption.withinQueue = WithinQueuePreemption.Never;
    q.getSpec().preemption.reclaimWithinCohort = ReclaimWithinCohort.LowerPriority;
    QueueDefinition d = QueueDefinitions.of(q);
    assertThat(d.strategy()).isEqualTo(QueueingStrategy.STRICT_FIFO);
    assertThat(d.weight()).isEqualTo(2.5);
    assertThat(d.withinQueue()).isEqualTo(io.gpupool.scheduler.queue.WithinQueuePreemption.NEVER);
    assertThat(d.reclaim()).isEqualTo(CohortReclaim.LOWER_PRIORITY);
  }

  @Test
  void aQueueWithoutQuotasOrWithAnIncompleteOneIsRefusedNamingTheField() {
    GpuQueue none = AdmissionControllerTest.queue("q", 4);
    none.getSpec().quotas = List.of();
    assertThatThrownBy(() -> QueueDefinitions.of(none)).hasMessageStartingWith("spec.quotas:");
    GpuQueue noProducts = AdmissionControllerTest.queue("q", 4);
    noProducts.getSpec().quotas.get(0).products = List.of();
    assertThatThrownBy(() -> QueueDefinitions.of(noProducts))
        .hasMessageStartingWith("spec.quotas[0]: Required value");
  }

  @Test
  void assignmentPrefersTheJobThenTheNamespaceLabelThenTheQueuesNamespaces() {
    GpuQueue listsNs = AdmissionControllerTest.queue("b-queue", 4, "ns");
    GpuQueue alsoListsNs = AdmissionControllerTest.queue("a-queue", 4, "ns");
    List<GpuQueue> queues = List.of(listsNs, alsoListsNs);
    Map<String, String> label = Map.of(GpuQueue.NAMESPACE_LABEL, "labelled");
    assertThat(QueueAssignment.resolve("named", "ns", label, queues)).contains("named");
    assertThat(QueueAssignment.resolve(null, "ns", label, queues)).contains("labelled");
    assertThat(QueueAssignment.resolve(null, "ns", Map.of(), queues)).contains("a-queue");
    assertThat(QueueAssignment.resolve(null, "other", Map.of(), queues)).isEmpty();
  }
}
