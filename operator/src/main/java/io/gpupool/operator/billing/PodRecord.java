package io.gpupool.operator.billing;

import io.gpupool.billing.metering.PodLifetime;
import java.util.Objects;

/**
 * A pod's lifetime as kept in the usage ConfigMap. While the pod runs, {@code lifetime.end()} is
 * the last instant the operator saw it running (provisional): a pod that vanishes while the
 * operator is down is charged up to there, never beyond.
 *
 * @param lifetime what metering needs
 * @param providerName the GpuProvider the pod ran on (the pair only knows its payout address)
 * @param node the node the pod ran on, so fraud proven of one node reaches the jobs it ran; null in
 *     records written before nodes were recorded
 * @param ended true once {@code end} is the pod's real end
 */
public record PodRecord(PodLifetime lifetime, String providerName, String node, boolean ended) {
  public PodRecord {
    Objects.requireNonNull(lifetime, "lifetime");
    Objects.requireNonNull(providerName, "providerName");
  }

  /**
   * True when this pod ran, or may have run, on {@code node} of GpuProvider {@code provider}: a
   * record without its node counts, since nothing shows it ran elsewhere.
   */
  public boolean mayHaveRunOn(String provider, String node) {
    return providerName.equals(provider) && (this.node == null || this.node.equals(node));
  }
}
