package io.gpupool.operator.billing;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * What became of a {@link StakeSlasher#slash} request.
 *
 * @param outcome what happened
 * @param txHash the slashing transaction, when one was sent
 * @param message what happened, in words fit for an event
 */
public record StakeSlashing(Outcome outcome, Optional<String> txHash, String message) {

  public enum Outcome {
    /** The stake was slashed on chain. */
    SLASHED,
    /**
     * The contract refused: nothing staked, slashed already within this challenge window, or the
     * provider has no payout address.
     */
    REFUSED,
    /** Billing is off: there is no chain. */
    BILLING_OFF,
    /** The transaction reverted or the chain could not be reached; {@code message} says which. */
    FAILED
  }

  public StakeSlashing {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(txHash, "txHash");
    Objects.requireNonNull(message, "message");
  }

  /**
   * The one wording of a slash in events, wherever the fraud was proven (a hardware challenge, a
   * spot-check, a canary): {@code stake slashed in 0x…: <message>}, or {@code stake not slashed
   * (<outcome>)[ in 0x…]: <message>}.
   */
  public String describe() {
    return (outcome == Outcome.SLASHED
            ? "stake slashed"
            : "stake not slashed (" + outcome.name().toLowerCase(Locale.ROOT) + ")")
        + txHash.map(tx -> " in " + tx).orElse("")
        + ": "
        + message;
  }
}
