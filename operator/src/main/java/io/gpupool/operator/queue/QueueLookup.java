package io.gpupool.operator.queue;

import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.scheduler.queue.AdmissionBook;
import io.gpupool.scheduler.queue.Workload;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/** Which queue a job waits in and at which priority, from its spec, namespace and the queues. */
final class QueueLookup {
  private final Map<String, GpuQueue> queues;
  private final NamespaceLabels namespaces;
  private final PriorityClasses priorities;

  QueueLookup(
      Map<String, GpuQueue> queues, NamespaceLabels namespaces, PriorityClasses priorities) {
    this.queues = queues;
    this.namespaces = namespaces;
    this.priorities = priorities;
  }

  /** Its named queue, else its namespace's; empty when no queue applies. */
  Optional<String> queueOf(Applicant a) {
    String ns = a.namespace();
    String named = a.namedQueue();
    if (named != null) {
      return Optional.of(named);
    }
    if (queues.isEmpty()) {
      return Optional.empty(); // no queue exists: nothing to look up
    }
    return QueueAssignment.resolve(null, ns, namespaces.of(ns), queues.values());
  }

  /** {@code spec.priority}, else its PriorityClass's value, else 0; empty: no such class. */
  OptionalInt priorityOf(Applicant a) {
    if (a.priority() != null) {
      return OptionalInt.of(a.priority());
    }
    if (a.priorityClassName() != null && !a.priorityClassName().isBlank()) {
      return priorities.value(a.priorityClassName());
    }
    return OptionalInt.of(0);
  }

  /** The GPU products of a queue's flavor; empty when either is unknown. */
  static Set<String> products(AdmissionBook book, String queue, String flavor) {
    return book.definition(queue)
        .flatMap(d -> d.quota(flavor))
        .map(q -> q.products())
        .orElse(Set.of());
  }

  /** The first flavor of the queue that accepts {@code w}'s products ("unknown" when none). */
  String firstFlavor(AdmissionBook book, String queue, Workload w) {
    return book.definition(queue)
        .flatMap(
            d ->
                d.quotas().stream()
                    .filter(
                        q ->
                            w.allowedProducts().isEmpty()
                                || q.products().stream().anyMatch(w.allowedProducts()::contains))
                    .findFirst())
        .map(q -> q.flavor())
        .orElse("unknown");
  }
}
