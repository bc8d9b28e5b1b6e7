package io.gpupool.operator.billing;

import java.util.concurrent.CompletionStage;

/**
 * The port through which whoever proves fraud without a paid pair to dispute (a wrong
 * hardware-challenge answer from a node that never ran paid work, or whose earnings left the
 * challenge window) has the provider's stake slashed on chain with the operator's verifier key: one
 * share of the stake, part of it to the whistleblower, the rest burned. The contract allows it once
 * per provider per challenge window. docs/trust.md.
 *
 * <p>Never blocks the caller: the stage completes, never exceptionally, with what happened.
 */
@FunctionalInterface
public interface StakeSlasher {

  /**
   * Slash {@code provider}'s stake.
   *
   * @param provider the GpuProvider's name (the slasher resolves its payout address)
   * @param evidence hash of the evidence kept by the caller, recorded on chain
   * @param reason a short human-readable reason, for events and logs (not sent on chain)
   */
  CompletionStage<StakeSlashing> slash(String provider, EvidenceHash evidence, String reason);
}
