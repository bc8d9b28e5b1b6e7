package io.gpupool.operator.queue;

import io.gpupool.api.v1alpha1.GpuQueue;
import java.util.Collection;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;

/**
 * Which GpuQueue a job goes through: the one it names ({@code spec.queue}), else the one its
 * namespace's {@code gpupool.io/queue} label names, else the first (by name) GpuQueue whose {@code
 * spec.namespaces} lists the namespace. None: the job is not queued.
 */
public final class QueueAssignment {
  private QueueAssignment() {}

  public static Optional<String> resolve(
      String named,
      String namespace,
      Map<String, String> namespaceLabels,
      Collection<GpuQueue> queues) {
    if (named != null && !named.isBlank()) {
      return Optional.of(named);
    }
    String labelled =
        namespaceLabels == null ? null : namespaceLabels.get(GpuQueue.NAMESPACE_LABEL);
    if (labelled != null && !labelled.isBlank()) {
      return Optional.of(labelled);
    }
    return queues.stream()
        .filter(q -> q.getSpec() != null && q.getSpec().namespaces != null)
        .filter(q -> q.getSpec().namespaces.contains(namespace))
        .map(q -> q.getMetadata().getName())
        .min(Comparator.naturalOrder());
  }
}
