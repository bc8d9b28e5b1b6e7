package io.gpupool.operator.trust;

import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.trust.Challenge;
import java.time.Duration;
import java.time.Instant;

/**
 * A challenge in flight: the node it holds, the claim it checks and its pod.
 *
 * @param started when its pod was created (by this process, or the API server's creation time of a
 *     predecessor's pod)
 * @param answeredUnseen adopted from a predecessor with its answer already given: when it came,
 *     nobody watched, so only a verdict that does not depend on it is given
 */
record ChallengeInFlight(
    String node,
    String provider,
    String product,
    int gpus,
    int slots,
    Challenge challenge,
    GpuSpec claimed,
    String pod,
    Instant started,
    boolean answeredUnseen) {

  /** The GPU time the challenge has held its node's GPUs until {@code now}. */
  double heldGpuSeconds(Instant now) {
    return gpus * Duration.between(started, now).toMillis() / 1000.0;
  }
}
