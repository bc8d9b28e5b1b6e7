package io.gpupool.operator.billing;

import java.util.Objects;
import java.util.Optional;

/**
 * What became of a {@link DisputeResolver#resolve} request.
 *
 * @param outcome what happened
 * @param txHash the resolving transaction, when one was mined
 * @param message why, in words fit for an event
 */
public record DisputeResolution(Outcome outcome, Optional<String> txHash, String message) {

  public enum Outcome {
    /** The dispute is closed with the verdict asked for. */
    RESOLVED,
    /** No dispute is open over the job's earnings from the provider. */
    NO_OPEN_DISPUTE,
    /** Billing is off: there is no chain. */
    BILLING_OFF,
    /** The chain refused or could not be reached; {@code message} says which. */
    FAILED
  }

  public DisputeResolution {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(txHash, "txHash");
    Objects.requireNonNull(message, "message");
  }
}
