package io.gpupool.operator.inference;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * Scaling decisions on in-flight requests, between {@code replicas.min} (never below one while the
 * job serves: with no replica there is no signal to scale up on) and {@code replicas.max}. Pure.
 *
 * <p>Up at once when the average per ready replica exceeds the target, to the count that brings it
 * back to the target. Down only to a count that keeps the average at or below {@link #DOWN_RATIO}
 * of the target (hysteresis: a scale-down never triggers the next scale-up), and only after the
 * load has stayed that low for the stabilization window.
 */
public final class Autoscaler {
  /** Scale down only to a count whose average stays at or below this share of the target. */
  public static final double DOWN_RATIO = 0.8;

  private Autoscaler() {}

  /**
   * @param desired the new desired count
   * @param lowSince when the load first allowed fewer replicas (null when it does not)
   * @param reason ScaledUp, ScaledDown, ScaleDownPending or Steady
   * @param message what was measured and decided
   */
  public record Decision(int desired, Instant lowSince, String reason, String message) {
    public boolean scaled() {
      return "ScaledUp".equals(reason) || "ScaledDown".equals(reason);
    }
  }

  public static Decision decide(
      int min,
      int max,
      int desired,
      List<Double> inFlightPerReadyReplica,
      int target,
      Instant lowSince,
      Instant now,
      Duration stabilization) {
    int floor = Math.max(1, min);
    if (inFlightPerReadyReplica.isEmpty()) {
      return new Decision(desired, null, "NoSignal", "no ready replica reported its load");
    }
    double sum = inFlightPerReadyReplica.stream().mapToDouble(Double::doubleValue).sum();
    double avg = sum / inFlightPerReadyReplica.size();
    String measured =
        String.format(
            Locale.ROOT,
            "%.1f in-flight requests per ready replica (%d ready, target %d)",
            avg,
            inFlightPerReadyReplica.size(),
            target);
    if (avg > target) {
      int want = clamp((int) Math.ceil(sum / target), floor, max);
      if (want > desired) {
        return new Decision(
            want, null, "ScaledUp", measured + ": " + desired + " -> " + want + " replicas");
      }
      return new Decision(desired, null, "Steady", measured + "; at most " + max + " replicas");
    }
    int want = clamp((int) Math.ceil(sum / (target * DOWN_RATIO)), floor, max);
    if (want >= desired) {
      return new Decision(desired, null, "Steady", measured);
    }
    Instant since = lowSince == null ? now : lowSince;
    Instant due = since.plus(stabilization);
    if (now.isBefore(due)) {
      return new Decision(
          desired,
          since,
          "ScaleDownPending",
          measured + ": " + desired + " -> " + want + " replicas if still low at " + due);
    }
    return new Decision(
        want, null, "ScaledDown", measured + ": " + desired + " -> " + want + " replicas");
  }

  static int clamp(int v, int lo, int hi) {
    return Math.max(lo, Math.min(hi, v));
  }
}
