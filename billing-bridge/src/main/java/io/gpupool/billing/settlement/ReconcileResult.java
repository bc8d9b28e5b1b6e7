package io.gpupool.billing.settlement;

/**
 * What start-up reconciliation found.
 *
 * @param eventsRead Settled/Overdrawn events read from the chain
 * @param pairsCorrected stored pairs whose settled cursor differed from the chain and was replaced
 * @param inFlightCleared in-flight transactions resolved (mined or unknown to the node)
 * @param unknownPairs pairs the chain has paid that the store does not know
 */
public record ReconcileResult(
    int eventsRead, int pairsCorrected, int inFlightCleared, int unknownPairs) {}
