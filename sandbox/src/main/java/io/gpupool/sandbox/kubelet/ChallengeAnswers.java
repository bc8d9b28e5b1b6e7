package io.gpupool.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.trust.Challenge;
import io.gpupool.scheduler.trust.ChallengeEnv;
import io.gpupool.scheduler.trust.ChallengeWork;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
 *   <li>{@value #ANSWER_LABEL}{@code =skip}: in a commit-then-open challenge, it commits in the
 *       claimed product's time, having computed only the products its real GPUs manage in that time
 *       and made up the rest (the cheat commit-then-open exists for);
 *   <li>{@value #ANSWER_LABEL}{@code =unopened}: in a commit-then-open challenge, it commits
 *       honestly and then opens nothing;
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

  /**
   * The node's answer in its termination message; empty when the pod carries no valid challenge (it
   * then runs on) or is a commit-then-open challenge ({@link #commitment}).
   */
  public static Optional<Answer> answer(Pod pod, Node node) {
    Optional<Challenge> challenge = challenge(pod, node);
    if (challenge.isEmpty() || env(pod).containsKey(ChallengeEnv.PORT)) {
      return Optional.empty();
    }
    Map<String, String> labels = node.getMetadata().getLabels();
    String message =
        "wrong".equals(labels.get(ANSWER_LABEL))
            ? madeUp(challenge.get())
            : ChallengeWork.answer(challenge.get());
    return Optional.of(new Answer(message, Math.round(seconds(challenge.get(), labels) * 1000)));
  }

  /**
   * What a node commits to in a commit-then-open challenge.
   *
   * @param digests one per product, in round order: the leaves of its commitment
   * @param wallMillis when after start the commitment is served
   * @param opens whether it opens the leaves asked for
   */
  public record Commitment(List<String> digests, long wallMillis, boolean opens) {}

  /** The node's commitment; empty unless the pod is a valid commit-then-open challenge. */
  public static Optional<Commitment> commitment(Pod pod, Node node) {
    Optional<Challenge> challenge = challenge(pod, node);
    if (challenge.isEmpty() || !env(pod).containsKey(ChallengeEnv.PORT)) {
      return Optional.empty();
    }
    Challenge c = challenge.get();
    Map<String, String> labels = node.getMetadata().getLabels();
    String mode = labels.getOrDefault(ANSWER_LABEL, "honest");
    List<String> madeUp = split(madeUp(c));
    List<String> digests = new ArrayList<>(c.rounds());
    double real = seconds(c, labels);
    double claimed = claimedSeconds(c, labels);
    // A skipping node computes what its GPUs manage in the claimed product's time.
    long computed =
        switch (mode) {
          case "wrong" -> 0;
          case "skip" -> (long) Math.floor(c.rounds() * Math.min(1.0, claimed / real));
          default -> c.rounds();
        };
    for (int r = 0; r < c.rounds(); r++) {
      digests.add(r < computed ? ChallengeWork.roundDigest(c, r) : madeUp.get(r));
    }
    boolean cheatsOnTime = mode.equals("wrong") || mode.equals("skip");
    return Optional.of(
        new Commitment(
            digests, Math.round((cheatsOnTime ? claimed : real) * 1000), !mode.equals("unopened")));
  }

  private static Optional<Challenge> challenge(Pod pod, Node node) {
    if (!applies(pod) || node == null || pod.getSpec().getContainers().isEmpty()) {
      return Optional.empty();
    }
    return ChallengeEnv.parse(env(pod));
  }

  private static Map<String, String> env(Pod pod) {
    Map<String, String> env = new LinkedHashMap<>();
    if (!pod.getSpec().getContainers().isEmpty()) {
      for (EnvVar e : pod.getSpec().getContainers().get(0).getEnv()) {
        env.put(e.getName(), e.getValue());
      }
    }
    return env;
  }

  /** Seconds the node's real GPUs take, at their share of speed. */
  private static double seconds(Challenge c, Map<String, String> labels) {
    String claimed = labels.getOrDefault("nvidia.com/gpu.product", "unknown");
    return secondsOn(c, labels, labels.getOrDefault(REAL_PRODUCT_LABEL, claimed))
        / speedShare(labels);
  }

  /** Seconds the GPUs its labels claim would take. */
  private static double claimedSeconds(Challenge c, Map<String, String> labels) {
    return secondsOn(c, labels, labels.getOrDefault("nvidia.com/gpu.product", "unknown"));
  }

  private static double secondsOn(Challenge c, Map<String, String> labels, String product) {
    int gpus = Math.max(1, parseInt(labels.get("nvidia.com/gpu.count")));
    GpuSpec spec = CATALOG.lookup(product, parseInt(labels.get("nvidia.com/gpu.memory")), null);
    return c.flops() / (gpus * spec.denseTflops() * 1e12 * SIMULATED_EFFICIENCY);
  }

  private static List<String> split(String concatenated) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i + 16 <= concatenated.length(); i += 16) {
      out.add(concatenated.substring(i, i + 16));
    }
    return out;
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
    // Commit-then-open: the simulated kubelet serves commitments and openings on loopback pod IPs.
    env.put("GPUPOOL_TRUST_CHALLENGE_OPENINGS", "true");
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
