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
 * @param ended true once {@code end} is the pod's real end
 */
public record PodRecord(PodLifetime lifetime, String providerName, boolean ended) {
  public PodRecord {
    Objects.requireNonNull(lifetime, "lifetime");
    Objects.requireNonNull(providerName, "providerName");
  }
}
