package io.gpupool.operator.trust;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.operator.workload.OneShotPods;
import io.gpupool.scheduler.trust.Challenge;
import io.gpupool.scheduler.trust.ChallengeEnv;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** The pod that runs a challenge on one node, and reading its answer back. Pure. */
public final class ChallengePods {
  /** Label on challenge pods: the node challenged (they carry no job labels: never metered). */
  public static final String CHALLENGE_LABEL = ChallengeEnv.NODE_LABEL;

  static final String NONCE_ENV = ChallengeEnv.NONCE;
  static final String SIZE_ENV = ChallengeEnv.SIZE;
  static final String ROUNDS_ENV = ChallengeEnv.ROUNDS;
  static final String CONTAINER = "challenge";

  private ChallengePods() {}

  /** A pod bound to {@code node} taking {@code slots} GPU slots (all of an idle node). */
  public static Pod build(
      String namespace, String node, int slots, Challenge challenge, String image) {
    return build(namespace, node, slots, challenge, image, Optional.empty());
  }

  /**
   * As {@link #build(String, String, int, Challenge, String)}; with {@code openingPort}, the
   * program commits and opens over HTTP on that port ({@link ChallengeEnv#PORT}) instead of
   * answering in its termination message.
   */
  public static Pod build(
      String namespace,
      String node,
      int slots,
      Challenge challenge,
      String image,
      Optional<Integer> openingPort) {
    ContainerBuilder container = container(challenge, image);
    openingPort.ifPresent(
        port ->
            container
                .addNewEnv()
                .withName(ChallengeEnv.PORT)
                .withValue(Integer.toString(port))
                .endEnv()
                .addNewPort()
                .withName("challenge")
                .withContainerPort(port)
                .endPort());
    // Bound by the operator like a gang's ranks: the node is the one under test.
    return OneShotPods.bound(
        namespace,
        name(node, challenge),
        Map.of(CHALLENGE_LABEL, node),
        node,
        slots,
        container.build());
  }

  private static ContainerBuilder container(Challenge challenge, String image) {
    return new ContainerBuilder()
        .withName(CONTAINER)
        .withImage(image)
        .withCommand("python3", "/workloads/challenge.py")
        .addNewEnv()
        .withName(NONCE_ENV)
        .withValue(challenge.nonce())
        .endEnv()
        .addNewEnv()
        .withName(SIZE_ENV)
        .withValue(Integer.toString(challenge.size()))
        .endEnv()
        .addNewEnv()
        .withName(ROUNDS_ENV)
        .withValue(Integer.toString(challenge.rounds()))
        .endEnv();
  }

  /** The port a commit-then-open challenge pod serves on; empty for a termination answer. */
  static Optional<Integer> openingPort(Pod pod) {
    if (pod.getSpec() == null || pod.getSpec().getContainers().isEmpty()) {
      return Optional.empty();
    }
    for (var env : pod.getSpec().getContainers().get(0).getEnv()) {
      if (ChallengeEnv.PORT.equals(env.getName()) && env.getValue() != null) {
        try {
          int port = Integer.parseInt(env.getValue().trim());
          return port >= 1 && port <= 65_535 ? Optional.of(port) : Optional.empty();
        } catch (NumberFormatException e) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }

  /** Node names are DNS subdomains; a pod name keeps them and adds the nonce's start. */
  static String name(String node, Challenge c) {
    String base = "gpupool-challenge-" + node.toLowerCase(Locale.ROOT).replace('.', '-');
    if (base.length() > 230) {
      base = base.substring(0, 230);
    }
    return base + "-" + c.nonce().substring(0, 8);
  }

  /** Reads a challenge from a pod's env (the sandbox's kubelet answers from it). */
  public static Optional<Challenge> challengeOf(Pod pod) {
    if (pod.getMetadata().getLabels() == null
        || !pod.getMetadata().getLabels().containsKey(CHALLENGE_LABEL)
        || pod.getSpec().getContainers().isEmpty()) {
      return Optional.empty();
    }
    Map<String, String> env = new HashMap<>();
    for (var e : pod.getSpec().getContainers().get(0).getEnv()) {
      if (e.getValue() != null) {
        env.put(e.getName(), e.getValue());
      }
    }
    return ChallengeEnv.parse(env);
  }

  /** What the pod has to say: its answer, or why it has none; empty while it still runs. */
  static Optional<PodResult> result(Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if (!"Succeeded".equals(phase) && !"Failed".equals(phase)) {
      return Optional.empty();
    }
    String message = null;
    String reason = pod.getStatus().getReason();
    for (var cs : pod.getStatus().getContainerStatuses()) {
      if (cs.getState() != null && cs.getState().getTerminated() != null) {
        message = cs.getState().getTerminated().getMessage();
        if (reason == null) {
          reason = cs.getState().getTerminated().getReason();
        }
      }
    }
    if ("Succeeded".equals(phase) && message != null) {
      return Optional.of(new PodResult(Optional.of(message), null));
    }
    return Optional.of(
        new PodResult(
            Optional.empty(),
            "challenge pod "
                + phase
                + (reason == null ? "" : " (" + reason + ")")
                + " without an answer"));
  }

  /** A finished pod's answer, or why it gave none. */
  record PodResult(Optional<String> answer, String failure) {}
}
