package io.gpupool.operator.billing;

import io.gpupool.operator.billing.DisputeFiling.Outcome;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** The {@link DisputeFiler} the operator runs with: disputes go to the billing contract. */
@ApplicationScoped
public class ChainDisputeFiler implements DisputeFiler {
  private final BillingService billing;

  public ChainDisputeFiler(BillingService billing) {
    this.billing = billing;
  }

  @Override
  public CompletionStage<DisputeFiling> open(
      JobRef job, String provider, EvidenceHash evidence, String reason) {
    if (!billing.enabled()) {
      return CompletableFuture.completedFuture(
          DisputeFiling.notOpened(
              Outcome.BILLING_OFF,
              "billing is off: no dispute against " + provider + " over " + job));
    }
    // The contract's dispute functions land with contract version 3 (issue #13 part A).
    return CompletableFuture.completedFuture(
        DisputeFiling.notOpened(
            Outcome.FAILED,
            "this contract version has no disputes: no dispute against "
                + provider
                + " over "
                + job));
  }
}
