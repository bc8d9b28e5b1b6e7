package io.gpupool.operator.billing;

import java.util.concurrent.CompletionStage;

/**
 * Closes a dispute the operator opened through {@link DisputeFiler}, with the operator's verifier
 * key: fraud (the frozen earnings go back to the payer, the provider's stake is slashed and the
 * whistleblower rewarded) or no fraud (the earnings are unfrozen). For evidence the operator can
 * judge itself (a challenge answered with a wrong result); anything else is resolved by a person
 * with {@code ./gpupool chain verifier dispute resolve}.
 */
@FunctionalInterface
public interface DisputeResolver {

  /** Resolve the open dispute over what {@code job} paid {@code provider}. */
  CompletionStage<DisputeResolution> resolve(JobRef job, String provider, boolean fraud);
}
