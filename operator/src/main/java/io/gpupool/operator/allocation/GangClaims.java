package io.gpupool.operator.allocation;

import java.util.Map;

/**
 * The GPU slots gpupool's unfinished jobs hold according to their status, by job ({@link
 * PodGpus#holderKey}) and node. A new leader reserves these at start-up along with the live pods it
 * finds: a gang whose rank just failed, or whose pods were not created yet when the previous leader
 * died, has no live pod on some of its nodes, yet restarts onto exactly those nodes.
 */
public interface GangClaims {
  /** Read from the cluster now; throws when it cannot be read (start-up then waits). */
  Map<String, Map<String, Integer>> claims();
}
