package io.gpupool.operator.billing;

import java.math.BigInteger;
import java.util.Objects;
import java.util.Optional;

/**
 * What became of a {@link DisputeFiler#open} request.
 *
 * @param outcome what happened
 * @param frozenWei the amount the dispute froze (0 unless {@link Outcome#OPENED})
 * @param txHash the dispute transaction, when one was sent
 * @param message why, in words fit for an event
 */
public record DisputeFiling(
    Outcome outcome, BigInteger frozenWei, Optional<String> txHash, String message) {

  public enum Outcome {
    /** The dispute is open on chain and {@code frozenWei} is frozen. */
    OPENED,
    /**
     * Nothing could be disputed: the job paid the provider nothing still inside the challenge
     * window, the provider has no payout address, or a dispute on the pair is already open.
     */
    NOTHING_TO_DISPUTE,
    /** Billing is off ({@code gpupool.billing.enabled=false}): there is no chain to dispute on. */
    BILLING_OFF,
    /** The chain refused the dispute or could not be reached; {@code message} says which. */
    FAILED
  }

  public DisputeFiling {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(frozenWei, "frozenWei");
    Objects.requireNonNull(txHash, "txHash");
    Objects.requireNonNull(message, "message");
  }

  public static DisputeFiling opened(BigInteger frozenWei, String txHash, String message) {
    return new DisputeFiling(Outcome.OPENED, frozenWei, Optional.of(txHash), message);
  }

  public static DisputeFiling notOpened(Outcome outcome, String message) {
    if (outcome == Outcome.OPENED) {
      throw new IllegalArgumentException("an opened dispute has a transaction");
    }
    return new DisputeFiling(outcome, BigInteger.ZERO, Optional.empty(), message);
  }
}
