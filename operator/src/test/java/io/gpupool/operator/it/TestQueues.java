package io.gpupool.operator.it;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.FlavorQuota;
import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.GpuQueueSpec;
import java.time.Duration;
import java.util.List;

/** GpuQueues for the queue ITs, and the Admitted condition queued jobs carry. */
final class TestQueues {
  private TestQueues() {}

  /**
   * Creates a GpuQueue for {@code namespace} with one flavor of {@code gpus} nominal GPUs of {@code
   * product}, and waits until the operator has taken it in (its status written): a job created
   * before the operator knows its queue would be placed as if no queue applied.
   */
  static GpuQueue queue(
      KubernetesClient client,
      String name,
      String namespace,
      String flavor,
      String product,
      int gpus,
      Duration timeout) {
    GpuQueue q = new GpuQueue();
    q.setMetadata(new ObjectMetaBuilder().withName(name).build());
    q.setSpec(new GpuQueueSpec());
    FlavorQuota quota = new FlavorQuota();
    quota.name = flavor;
    quota.products = List.of(product);
    quota.nominal = gpus;
    q.getSpec().quotas = List.of(quota);
    q.getSpec().namespaces = List.of(namespace);
    client.resource(q).create();
    return await()
        .atMost(timeout)
        .until(
            () -> client.resources(GpuQueue.class).withName(name).get(),
            g -> g.getStatus() != null && g.getStatus().conditions != null);
  }

  /** A job's {@code Admitted} condition; null before its queue has looked at it. */
  static Condition admitted(List<Condition> conditions) {
    return conditions == null
        ? null
        : conditions.stream().filter(c -> "Admitted".equals(c.getType())).findFirst().orElse(null);
  }
}
