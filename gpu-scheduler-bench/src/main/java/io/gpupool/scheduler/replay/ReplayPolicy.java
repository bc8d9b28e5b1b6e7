package io.gpupool.scheduler.replay;

/** A placement policy under replay: picks a node and GPUs for each arriving pod, or none. */
interface ReplayPolicy {
  /** The name printed in the results. */
  String name();

  /** Called once per pod in arrival order, before {@link #choose}. */
  default void arrived(ReplayPod pod) {}

  /** The chosen node and GPU indices, or null when the pod fits nowhere. */
  Choice choose(ReplayCluster cluster, ReplayPod pod);

  /** A node and the GPUs on it. */
  record Choice(int node, int[] gpus) {}
}
