package io.gpupool.scheduler.verify;

import java.util.List;

/**
 * What a verifier replaying one checkpoint interval reports.
 *
 * @param fromStep the checkpoint the replay started from
 * @param toStep the next checkpoint, where the replay ended
 * @param distances one per commitment in (fromStep, toStep], in step order
 * @param commitmentsIntact false when a parameter snapshot the provider published does not hash to
 *     the digest it committed (or a committed step has no snapshot): equivocation, fraud by itself
 */
public record IntervalReport(
    long fromStep, long toStep, List<StepDistance> distances, boolean commitmentsIntact) {

  public IntervalReport {
    if (toStep <= fromStep) {
      throw new IllegalArgumentException("interval (" + fromStep + ", " + toStep + "] is empty");
    }
    distances = List.copyOf(distances);
  }
}
