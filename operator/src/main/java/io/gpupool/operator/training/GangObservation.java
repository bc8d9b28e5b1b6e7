package io.gpupool.operator.training;

import java.time.Instant;
import java.util.Set;

/** What a gang's pods and nodes say about it right now. */
public sealed interface GangObservation {
  /** Some ranks are not running yet (pending, creating). */
  record Starting(int running, int total) implements GangObservation {}

  /** Every rank runs. */
  record Running() implements GangObservation {}

  /** Every rank exited 0. */
  record Succeeded() implements GangObservation {}

  /** A rank's container failed or its pod vanished; exitCode null when unknown. */
  record RankFailed(int rank, Integer exitCode, String what) implements GangObservation {}

  /** Nodes under some ranks are gone, or NotReady past the grace period. */
  record NodesLost(Set<String> nodes, Set<Integer> ranks) implements GangObservation {}

  /**
   * A node under the gang is NotReady but still inside the grace period; look again at {@code
   * recheckAt}. Short blips on home links should not restart a gang.
   */
  record NodeSuspect(String node, Instant recheckAt) implements GangObservation {}
}
