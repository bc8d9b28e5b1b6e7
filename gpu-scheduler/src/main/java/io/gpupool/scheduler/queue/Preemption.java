package io.gpupool.scheduler.queue;

/** A decision to evict {@code victimId} so that {@code preemptorId} can be admitted. */
public record Preemption(
    String victimId, String victimQueue, String preemptorId, String flavor, Reason reason) {

  /** Why the victim goes. */
  public enum Reason {
    /** A higher-priority workload of the same queue. */
    IN_QUEUE_PRIORITY,
    /** Its queue borrowed quota the preemptor's queue now claims back. */
    COHORT_RECLAIM
  }
}
