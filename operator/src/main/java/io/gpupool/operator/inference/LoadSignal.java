package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.OptionalDouble;

/** Where the autoscaler reads a replica's load: in-flight requests reported by its leader. */
public interface LoadSignal {
  /** Gauge the leader's metrics endpoint reports (summed over its label sets). */
  String METRIC = "gpupool_inflight_requests";

  /**
   * In-flight requests the replica led by {@code leader} reports, or empty when it cannot be read
   * (not reachable yet, no such gauge); an unread replica does not count in the average.
   */
  OptionalDouble inFlight(Pod leader, int port, String metricsPath);
}
