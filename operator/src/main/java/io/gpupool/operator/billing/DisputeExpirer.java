package io.gpupool.operator.billing;

import io.gpupool.billing.PairId;
import java.util.concurrent.CompletionStage;

/**
 * Ends a dispute that stayed open past the contract's own deadline ({@code DISPUTE_DEADLINE}): the
 * contract then refuses every verdict, so the only way to unfreeze the earnings is {@code
 * expireDispute}, which ends it as no fraud.
 */
@FunctionalInterface
public interface DisputeExpirer {

  /** Expire the open dispute on {@code pair}. */
  CompletionStage<DisputeResolution> expire(PairId pair);
}
