package io.gpupool.operator.verification;

import java.util.Optional;
import java.util.Set;

/**
 * Where verification pods run, with the GPU they use held in the allocation ledger like a job's, so
 * no job is placed onto it meanwhile. Implemented over the scheduler's view of the pool
 * (gpu-scheduler's {@code VerifierPlacement}: another provider, ready, not excluded, cheapest).
 */
public interface CheckPlacer {

  /** The node chosen and what it is. */
  record Node(String name, String provider, String gpuProduct) {}

  /**
   * A node for a check, or why there is none.
   *
   * @param node empty when none fits
   * @param reason why none fits (empty when one does)
   */
  record Choice(Optional<Node> node, String reason) {}

  /**
   * Chooses a node of a provider outside {@code barredProviders}, in one of {@code regions} (empty:
   * any), with one whole GPU free and holds that GPU under {@code holder} (replacing what the
   * holder held).
   */
  Choice place(String holder, Set<String> barredProviders, Set<String> regions);

  /** Frees what {@code holder} holds. */
  void release(String holder);
}
