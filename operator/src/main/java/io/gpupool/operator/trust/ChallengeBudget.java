package io.gpupool.operator.trust;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Keeps random challenges under a share of the pool's GPU time: the GPU-seconds challenges held
 * over the last hour against {@code share} × the pool's GPUs × one hour. Pure.
 */
final class ChallengeBudget {
  static final Duration WINDOW = Duration.ofHours(1);
  private final double share;
  private final Deque<Spent> spent = new ArrayDeque<>();

  private record Spent(Instant at, double gpuSeconds) {}

  ChallengeBudget(double share) {
    if (!(share >= 0) || share > 1) {
      throw new IllegalArgumentException(
          "gpupool.trust.challenge.budget must be in [0, 1], was " + share);
    }
    this.share = share;
  }

  /** Records GPU time a challenge held (GPUs × seconds the pod was there). */
  synchronized void spend(Instant at, double gpuSeconds) {
    spent.addLast(new Spent(at, gpuSeconds));
  }

  /** True when {@code planned} more GPU-seconds keep the last hour under the share. */
  synchronized boolean allows(Instant now, int poolGpus, double planned) {
    // Not only from the front: spending restored after a restart arrives out of time order.
    spent.removeIf(s -> s.at().isBefore(now.minus(WINDOW)));
    double used = spent.stream().mapToDouble(Spent::gpuSeconds).sum();
    return used + planned <= share * poolGpus * WINDOW.toSeconds();
  }
}
