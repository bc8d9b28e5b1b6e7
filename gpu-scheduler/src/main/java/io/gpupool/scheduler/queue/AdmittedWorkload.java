package io.gpupool.scheduler.queue;

/** A workload holding quota: running, being placed, or evicted and still leaving. */
public final class AdmittedWorkload {
  private final Workload workload;
  private final String flavor;
  private final long admittedAt;
  private long lastCheckpointAt;
  private String evictedFor;
  private int evictedBefore;

  AdmittedWorkload(Workload workload, String flavor, long admittedAt) {
    this.workload = workload;
    this.flavor = flavor;
    this.admittedAt = admittedAt;
    this.lastCheckpointAt = admittedAt;
  }

  public Workload workload() {
    return workload;
  }

  public String flavor() {
    return flavor;
  }

  public long admittedAt() {
    return admittedAt;
  }

  /** Work since this instant is lost if the workload is evicted now. */
  public long lastCheckpointAt() {
    return lastCheckpointAt;
  }

  /** Id of the workload it was evicted for; null while it runs undisturbed. */
  public String evictedFor() {
    return evictedFor;
  }

  public boolean evicting() {
    return evictedFor != null;
  }

  /** Times it was evicted since it was first offered. */
  public int evictedBefore() {
    return evictedBefore;
  }

  void evictedBefore(int times) {
    evictedBefore = times;
  }

  void checkpointed(long at) {
    lastCheckpointAt = Math.max(lastCheckpointAt, at);
  }

  void evict(String preemptor) {
    evictedFor = preemptor;
  }

  /** Latest instant it can still hold its GPUs; {@code Long.MAX_VALUE} when unbounded. */
  long endBy() {
    return workload.bounded() ? admittedAt + workload.expectedRuntimeMillis() : Long.MAX_VALUE;
  }

  /** Milliseconds of work lost per GPU if evicted at {@code now}. */
  long lostMillisPerGpu(long now) {
    return Math.max(0, now - lastCheckpointAt);
  }
}
