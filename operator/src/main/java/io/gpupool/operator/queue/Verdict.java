package io.gpupool.operator.queue;

import java.time.Instant;
import java.util.Set;

/** What admission says about one job now. */
public sealed interface Verdict {
  /** No GpuQueue applies: the job is placed without quota, as before queues existed. */
  record NotQueued() implements Verdict {}

  /** The job holds quota of {@code flavor}: place it on {@code products} only. */
  record Admitted(String queue, String flavor, Set<String> products, int priority)
      implements Verdict {}

  /** The job waits in its queue. */
  record Queued(String queue, int position, String message, int priority) implements Verdict {}

  /** No quota of the queue can ever cover the job, or its queue or priority class is missing. */
  record Inadmissible(String queue, String message) implements Verdict {}

  /** The job was evicted for {@code preemptor}: its pods go at {@code deadline}. */
  record Evicted(String queue, String preemptor, Instant deadline) implements Verdict {}

  /**
   * The job's eviction is complete (pods removed, back in its queue) although the copy asked about
   * still shows GPUs: that copy predates the eviction's status write, or that write was lost.
   */
  record Requeued(String queue) implements Verdict {}
}
