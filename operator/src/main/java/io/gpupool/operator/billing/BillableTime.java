package io.gpupool.operator.billing;

import java.time.Instant;

/**
 * The clamp rules of billable time. The kubelet's container timestamps come from the provider's own
 * node, so they only ever narrow what the operator itself observed: a pod is billed from its {@code
 * startedAt}, but never from before the API server created it nor from after the operator first saw
 * it running; it is billed until its {@code finishedAt} (or deletion), but never past the moment
 * the operator saw it stop, and never past the moment its node stopped delivering ({@link
 * NodeOutages}). Pure.
 */
public final class BillableTime {
  private BillableTime() {}

  /**
   * When billing of a pod starts.
   *
   * @param startedAt the kubelet's {@code startedAt} of the GPU container, null when unknown
   * @param createdAt the pod's {@code creationTimestamp} (set by the API server), null if unknown
   * @param observedAt when the operator saw the pod running with this {@code startedAt}
   * @return {@code startedAt} within [{@code createdAt}, {@code observedAt}], or null when the pod
   *     has no {@code startedAt} (it never ran, as far as anyone can tell)
   */
  public static Instant start(Instant startedAt, Instant createdAt, Instant observedAt) {
    if (startedAt == null) {
      return null;
    }
    Instant start = startedAt;
    if (createdAt != null && start.isBefore(createdAt)) {
      start = createdAt;
    }
    return start.isAfter(observedAt) ? observedAt : start;
  }

  /**
   * When billing of a pod the operator saw stop ends.
   *
   * @param reported the kubelet's {@code finishedAt} or the pod's deletion time, null when neither
   *     is known (the pod left Running without saying when)
   * @param start the pod's billing start ({@link #start})
   * @param observedAt when the operator saw the pod stopped (or deleted)
   * @return {@code reported} within [{@code start}, {@code observedAt}]; {@code observedAt} when
   *     nothing was reported
   */
  public static Instant end(Instant reported, Instant start, Instant observedAt) {
    Instant end = reported == null || reported.isAfter(observedAt) ? observedAt : reported;
    return end.isBefore(start) ? start : end;
  }

  /**
   * How far a pod still running is charged at {@code now}: {@link UsageMeter#runningUntil}, no
   * later than {@code nodeCap} (the last time its node was seen Ready, or the start of its outage),
   * and never below {@code floor} (what was already charged) nor {@code start}.
   */
  public static Instant provisionalEnd(Instant now, Instant nodeCap, Instant start, Instant floor) {
    Instant end = UsageMeter.runningUntil(now);
    if (nodeCap != null && nodeCap.isBefore(end)) {
      end = nodeCap;
    }
    if (floor != null && floor.isAfter(end)) {
      end = floor;
    }
    return end.isBefore(start) ? start : end;
  }

  static Instant earlier(Instant a, Instant b) {
    return a == null ? b : b == null || a.isBefore(b) ? a : b;
  }

  static Instant later(Instant a, Instant b) {
    return a == null ? b : b == null || a.isAfter(b) ? a : b;
  }
}
