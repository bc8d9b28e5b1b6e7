package io.gpupool.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.trust.Challenge;
import io.gpupool.scheduler.trust.ChallengeEnv;
import io.gpupool.scheduler.trust.ChallengeWork;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * How the simulated kubelet answers the operator's hardware challenges: it computes the true answer
 * (gpu-scheduler's {@link ChallengeWork}) and takes as long as the node's real GPUs would, so the
 * protocol runs end to end. Two node labels make a node dishonest, a third makes it slow:
 *
 * <ul>
 *   <li>{@value #REAL_PRODUCT_LABEL}: the GPUs it really has (its GFD labels claim another); it
 *       answers correctly at that product's speed;
 *   <li>{@value #ANSWER_LABEL}{@code =wrong}: it answers at the claimed speed with made-up digests;
 *   <li>{@value #SPEED_SHARE_LABEL}: the share in (0, 1] of its GPUs' speed it computes at (a
 *       throttled, power-capped or shared card): it answers correctly, taking that much longer.
 * </ul>
 *
 * <p>Simulated GPUs run at {@value #SIMULATED_EFFICIENCY} of their datasheet rate, so a challenge
 * the operator checks in milliseconds takes seconds; {@link #operatorEnvironment()} tells the
 * operator the same calibration. Times are wall-clock (the operator times on its own clock), not
 * scaled sandbox time.
 */
public final class ChallengeAnswers {
  public static final String REAL_PRODUCT_LABEL = "sandbox.gpupool.io/real-gpu-product";
  public static final String ANSWER_LABEL = "sandbox.gpupool.io/challenge-answer";
  public static final String SPEED_SHARE_LABEL = "sandbox.gpupool.io/challenge-speed-share";
  public static final double SIMULATED_EFFICIENCY = 1e-9;

  private static final GpuCatalog CATALOG = GpuCatalog.defaults();

  private ChallengeAnswers() {}

  /** The termination message and how long after start the pod ends with it. */
  public record Answer(String message, long wallMillis) {}

  /** True for the operator's challenge pods. */
  public static boolean applies(Pod pod) {
    return pod.getMetadata().getLabels() != null
        && pod.getMetadata().getLabels().containsKey(ChallengeEnv.NODE_LABEL);
  }

  /** The node's answer; empty when the pod carries no valid challenge (it then runs on). */
  public static Optional<Answer> answer(Pod pod, Node node) {
    if (!applies(pod) || node == null || pod.getSpec().getContainers().isEmpty()) {
      return Optional.empty();
    }
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar e : pod.getSpec().getContainers().get(0).getEnv()) {
      env.put(e.getName(), e.getValue());
    }
    Optional<Challenge> challenge =
        ChallengeEnv.parse(
            env.get(ChallengeEnv.NONCE), env.get(ChallengeEnv.SIZE), env.get(ChallengeEnv.ROUNDS));
    if (challenge.isEmpty()) {
      return Optional.empty();
    }
    Map<String, String> labels = node.getMetadata().getLabels();
    String claimed = labels.getOrDefault("nvidia.com/gpu.product", "unknown");
    String real = labels.getOrDefault(REAL_PRODUCT_LABEL, claimed);
    int gpus = Math.max(1, parseInt(labels.get("nvidia.com/gpu.count")));
    GpuSpec spec = CATALOG.lookup(real, parseInt(labels.get("nvidia.com/gpu.memory")), null);
    double seconds =
        challenge.get().flops()
            / (gpus * spec.denseTflops() * 1e12 * SIMULATED_EFFICIENCY * speedShare(labels));
    String message =
        "wrong".equals(labels.get(ANSWER_LABEL))
            ? madeUp(challenge.get())
            : ChallengeWork.answer(challenge.get());
    return Optional.of(new Answer(message, Math.round(seconds * 1000)));
  }

  /** Digests of a challenge nobody asked for: well-formed, and wrong. */
  static String madeUp(Challenge c) {
    String otherNonce = new StringBuilder(c.nonce()).reverse().toString();
    Challenge other =
        new Challenge(
            otherNonce.equals(c.nonce()) ? "f" + c.nonce().substring(1) : otherNonce,
            8,
            c.rounds());
    return ChallengeWork.answer(other);
  }

  /** The operator settings that match this simulation (challenges on, sized for seconds). */
  public static Map<String, String> operatorEnvironment() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("GPUPOOL_TRUST_CHALLENGE_ENABLED", "true");
    env.put("GPUPOOL_TRUST_CHALLENGE_EFFICIENCY", Double.toString(SIMULATED_EFFICIENCY));
    env.put("GPUPOOL_TRUST_CHALLENGE_SIZE", "64");
    env.put("GPUPOOL_TRUST_CHALLENGE_TARGET", "3s");
    // A loaded machine (CI on two cores) takes up to ~17 s from creating a pod to reading its
    // answer; an RTX 3090 posing as an H100 still needs 42 s against a 24.8 s deadline.
    env.put("GPUPOOL_TRUST_CHALLENGE_STARTUP_ALLOWANCE", "20s");
    env.put("GPUPOOL_TRUST_CHALLENGE_MAX_CONCURRENT", "16");
    env.put("GPUPOOL_TRUST_CHALLENGE_MEAN_INTERVAL", "10m");
    return env;
  }

  /** The share of its GPUs' speed a node computes at: 1 unless its label says less. */
  static double speedShare(Map<String, String> labels) {
    String value = labels.get(SPEED_SHARE_LABEL);
    if (value == null) {
      return 1.0;
    }
    try {
      double share = Double.parseDouble(value.trim());
      return share > 0 && share <= 1 ? share : 1.0;
    } catch (NumberFormatException e) {
      return 1.0;
    }
  }

  private static int parseInt(String s) {
    try {
      return s == null ? 0 : Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
