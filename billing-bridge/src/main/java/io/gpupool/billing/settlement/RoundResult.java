package io.gpupool.billing.settlement;

import java.util.List;

/**
 * What one settlement round did.
 *
 * @param batchesSent transactions sent
 * @param pairsConfirmed pairs whose settlement receipt was processed
 * @param pairsFailed pairs scheduled for retry
 * @param errors readable failure descriptions (decoded revert reasons, RPC errors)
 */
public record RoundResult(
    int batchesSent, int pairsConfirmed, int pairsFailed, List<String> errors) {

  public RoundResult {
    errors = List.copyOf(errors);
  }
}
