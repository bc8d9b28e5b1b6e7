package io.gpupool.operator.billing;

import java.util.concurrent.CompletionStage;

/**
 * The port through which whoever finds fraud evidence against a provider (the hardware challenge
 * checker) asks for that provider's earnings from a job to be disputed on chain. Disputes are
 * opened by the operator's verifier key within the contract's challenge window; the disputed amount
 * is frozen until the dispute is resolved (fraud: back to the payer and the provider's stake
 * slashed; no fraud: unfrozen). docs/trust.md, docs/billing.md.
 *
 * <p>Filing never blocks the caller: the returned stage completes, never exceptionally, with what
 * happened on chain. The caller acts on its own evidence (quarantine) whatever the outcome: a
 * dispute that cannot be filed (billing off, nothing left in the window, chain down) is reported,
 * not retried, by the filer.
 */
@FunctionalInterface
public interface DisputeFiler {

  /**
   * Dispute what {@code job} paid {@code provider} and is still inside the challenge window.
   *
   * @param job the job whose earnings are disputed (its payer is the job's billing payer)
   * @param provider the GpuProvider's name (the filer resolves its payout address)
   * @param evidence hash of the evidence kept by the caller (e.g. the challenge's nonce, expected
   *     and returned result); recorded on chain so the evidence can be checked later
   * @param reason a short human-readable reason, for events and logs (not sent on chain)
   */
  CompletionStage<DisputeFiling> open(
      JobRef job, String provider, EvidenceHash evidence, String reason);
}
