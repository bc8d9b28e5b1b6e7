package io.gpupool.operator.queue;

import io.gpupool.api.v1alpha1.FlavorQuota;
import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.GpuQueueSpec;
import io.gpupool.api.v1alpha1.QueuePreemption;
import io.gpupool.scheduler.queue.CohortReclaim;
import io.gpupool.scheduler.queue.QueueDefinition;
import io.gpupool.scheduler.queue.QueueingStrategy;
import io.gpupool.scheduler.queue.Quota;
import io.gpupool.scheduler.queue.WithinQueuePreemption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** A GpuQueue resource as the admission core's {@link QueueDefinition}; defaults as the CRD's. */
public final class QueueDefinitions {
  private QueueDefinitions() {}

  /** Throws {@link IllegalArgumentException} with a message naming the field when invalid. */
  public static QueueDefinition of(GpuQueue queue) {
    String name = queue.getMetadata().getName();
    GpuQueueSpec spec = queue.getSpec();
    if (spec == null || spec.quotas == null || spec.quotas.isEmpty()) {
      throw new IllegalArgumentException("spec.quotas: Required value: at least one quota");
    }
    List<Quota> quotas = new ArrayList<>();
    for (int i = 0; i < spec.quotas.size(); i++) {
      FlavorQuota q = spec.quotas.get(i);
      String field = "spec.quotas[" + i + "]";
      if (q.name == null || q.products == null || q.products.isEmpty() || q.nominal == null) {
        throw new IllegalArgumentException(
            field + ": Required value: name, products and nominal are required");
      }
      try {
        quotas.add(
            new Quota(q.name, Set.copyOf(q.products), q.nominal, q.borrowingLimit, q.lendingLimit));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(field + ": Invalid value: " + e.getMessage(), e);
      }
    }
    QueuePreemption p = spec.preemption;
    WithinQueuePreemption within =
        p == null || p.withinQueue == null
            ? WithinQueuePreemption.LOWER_PRIORITY
            : switch (p.withinQueue) {
              case Never -> WithinQueuePreemption.NEVER;
              case LowerPriority -> WithinQueuePreemption.LOWER_PRIORITY;
            };
    CohortReclaim reclaim =
        p == null || p.reclaimWithinCohort == null
            ? CohortReclaim.ANY
            : switch (p.reclaimWithinCohort) {
              case Never -> CohortReclaim.NEVER;
              case LowerPriority -> CohortReclaim.LOWER_PRIORITY;
              case Any -> CohortReclaim.ANY;
            };
    QueueingStrategy strategy =
        spec.queueingStrategy == io.gpupool.api.v1alpha1.QueueingStrategy.StrictFIFO
            ? QueueingStrategy.STRICT_FIFO
            : QueueingStrategy.BEST_EFFORT_FIFO;
    double weight = spec.weight == null ? 1.0 : spec.weight;
    try {
      return new QueueDefinition(
          name, blankToNull(spec.cohort), weight, strategy, quotas, within, reclaim);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("spec: Invalid value: " + e.getMessage(), e);
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
