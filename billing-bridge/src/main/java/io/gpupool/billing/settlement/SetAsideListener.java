package io.gpupool.billing.settlement;

import io.gpupool.billing.PairId;

/**
 * Told when a pair is set aside from settlement (it cannot be encoded, or its batch of one keeps
 * reverting), so that the operator can say so on the job (a Warning event) and in metrics.
 */
@FunctionalInterface
public interface SetAsideListener {
  /** {@code pair} is no longer offered for settlement, for {@code reason}. */
  void pairSetAside(PairId pair, String reason);
}
