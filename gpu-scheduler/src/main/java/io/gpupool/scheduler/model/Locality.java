package io.gpupool.scheduler.model;

/** How close two GPUs are, from closest to farthest. */
public enum Locality {
  SAME_NODE,
  SAME_ZONE,
  SAME_REGION,
  CROSS_REGION;

  /** The locality between two nodes. */
  public static Locality between(PoolNode a, PoolNode b) {
    if (a.name().equals(b.name())) {
      return SAME_NODE;
    }
    if (!a.region().equals(b.region())) {
      return CROSS_REGION;
    }
    return a.zone().equals(b.zone()) ? SAME_ZONE : SAME_REGION;
  }
}
