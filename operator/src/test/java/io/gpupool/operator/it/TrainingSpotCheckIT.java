package io.gpupool.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.Checkpoint;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.api.v1alpha1.GpuRequirements;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.Parallelism;
import io.gpupool.api.v1alpha1.ParallelismStrategy;
import io.gpupool.api.v1alpha1.PlacementPolicy;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import io.gpupool.api.v1alpha1.TrainingVerification;
import io.gpupool.api.v1alpha1.TrainingVerificationMode;
import io.gpupool.api.v1alpha1.VerificationPod;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.quarkus.test.kubernetes.client.KubernetesTestServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;

/**
 * Training spot-checks against the mock API server: the trainer's rank-0 log names its committed
 * checkpoints, and the test plays the verifier and referee pods' answers (termination messages), as
 * ddp_train.py --verify / --referee write them. An honest job is verified interval by interval and
 * Succeeds only once its last interval was checked; a cheat is refereed on a third provider,
 * disputed, its node quarantined and the gang moved, resuming from the last verified checkpoint.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class TrainingSpotCheckIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final String NS = "default";
  private static final String RTX4090 = "NVIDIA-GeForce-RTX-4090";
  private static final String ROLE = "gpupool.io/verification-role";

  @Inject KubernetesClient client;
  @KubernetesTestServer KubernetesServer server;

  private void node(String name, String provider, String price, String region) {
    if (client.resources(GpuProvider.class).withName(provider).get() == null) {
      GpuProvider p = TestNodes.provider(provider, RTX4090, price);
      // a payout address of its own: the meter keys GPU time by (job, payer, payout address), so
      // providers without one would share a line in usage.byProvider
      p.getSpec().payoutAddress = payoutAddress(provider);
      client.resource(p).create();
    }
    client.resource(TestNodes.gpuNode(name, provider, RTX4090, 1, 24564, region)).create();
  }

  /** A distinct, well-formed address per provider name. */
  private static String payoutAddress(String provider) {
    return "0x" + String.format("%40s", Integer.toHexString(provider.hashCode())).replace(' ', '0');
  }

  private static TrainingJob job(String name, String region) {
    TrainingJob job = new TrainingJob();
    job.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NS).build());
    TrainingJobSpec spec = new TrainingJobSpec();
    spec.image = "ghcr.io/example/train:1";
    spec.command = List.of("torchrun", "--nproc-per-node=1", "/workloads/ddp_train.py");
    spec.args = List.of("--steps", "20", "--checkpoint-every", "10");
    spec.parallelism = new Parallelism();
    spec.parallelism.strategy = ParallelismStrategy.DataParallel;
    spec.parallelism.workers = 1;
    spec.parallelism.gpusPerWorker = 1;
    spec.model = new ModelSpec();
    spec.model.parameters = "100M";
    spec.model.layers = 4;
    spec.model.globalBatchSize = 64;
    spec.resources = new GpuRequirements();
    spec.placement = new PlacementPolicy();
    spec.placement.regions = List.of(region);
    spec.checkpoint = new Checkpoint();
    spec.checkpoint.uri = "file:///tmp/ckpt/" + name;
    spec.verification = new TrainingVerification();
    spec.verification.mode = TrainingVerificationMode.SpotCheck;
    spec.verification.sampleRate = 1.0;
    job.setSpec(spec);
    return job;
  }

  /** What the trainer's rank-0 pod printed: the contract's checkpoint lines among its steps. */
  private void trainerLog(String pod, long... checkpoints) {
    StringBuilder log = new StringBuilder("[default0]:[rank 0] world 1\n");
    for (long step : checkpoints) {
      log.append("[default0]:[rank 0] step ").append(step).append(" loss 0.1\n");
      log.append("[default0]:GPUPOOL-CHECKPOINT {\"step\": ").append(step).append("}\n");
    }
    server
        .expect()
        .get()
        .withPath(
            "/api/v1/namespaces/" + NS + "/pods/" + pod + "/log?pretty=false&container=worker")
        .andReturn(200, log.toString())
        .always();
  }

  private TrainingJob get(String name) {
    return client.resources(TrainingJob.class).inNamespace(NS).withName(name).get();
  }

  private List<Pod> pods(String job, String role) {
    return new FakeKubelet(client)
        .pods(NS, job).stream()
            .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
            .filter(
                p ->
                    role == null
                        ? !p.getMetadata().getLabels().containsKey(ROLE)
                        : role.equals(p.getMetadata().getLabels().get(ROLE)))
            .collect(Collectors.toList());
  }

  /** Waits for the job, running every trainer pod the operator created meanwhile. */
  private TrainingJob awaitJob(String name, Predicate<TrainingJob> done) {
    try {
      return await()
          .atMost(TIMEOUT)
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                for (Pod p : pods(name, null)) {
                  if (p.getStatus() == null || p.getStatus().getPhase() == null) {
                    new FakeKubelet(client).run(p);
                  }
                }
                return get(name);
              },
              j -> j != null && j.getStatus() != null && done.test(j));
    } catch (ConditionTimeoutException e) {
      TrainingJob j = get(name);
      throw new AssertionError(
          e.getMessage()
              + "\nstatus: "
              + (j == null
                  ? null
                  : io.fabric8.kubernetes.client.utils.Serialization.asJson(j.getStatus())),
          e);
    }
  }

  private Pod awaitPod(String job, String role, Predicate<Pod> which) {
    try {
      return await()
          .atMost(TIMEOUT)
          .pollInterval(Duration.ofMillis(200))
          .until(() -> pods(job, role).stream().filter(which).findFirst(), Optional::isPresent)
          .get();
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("no " + role + " pod; " + describe(job), e);
    }
  }

  private String describe(String name) {
    TrainingJob j = get(name);
    return "status: "
        + (j == null ? null : Serialization.asJson(j.getStatus()))
        + "\npods: "
        + new FakeKubelet(client)
            .pods(NS, name).stream()
                .map(p -> p.getMetadata().getName() + "@" + p.getSpec().getNodeName())
                .toList();
  }

  /**
   * The pod ends as a verifier or referee ends: exit 0, its result in the termination message,
   * having run since it was created.
   */
  private void finish(Pod pod, String result) {
    Instant end = Instant.now();
    Instant start = Instant.parse(pod.getMetadata().getCreationTimestamp());
    client
        .pods()
        .inNamespace(NS)
        .withName(pod.getMetadata().getName())
        .editStatus(
            p -> {
              p.setStatus(new PodStatus());
              p.getStatus().setPhase("Succeeded");
              p.getStatus()
                  .setContainerStatuses(
                      List.of(
                          new ContainerStatusBuilder()
                              .withName("verify")
                              .withNewState()
                              .withNewTerminated()
                              .withExitCode(0)
                              .withMessage(result)
                              .withStartedAt(start.toString())
                              .withFinishedAt(end.toString())
                              .endTerminated()
                              .endState()
                              .build()));
              return p;
            });
  }

  private static String replay(long from, long to, String distances) {
    return "{\"from\":"
        + from
        + ",\"to\":"
        + to
        + ",\"ranks\":{\"0\":{\"intact\":true,\"distances\":["
        + distances
        + "]}}}";
  }

  private static Optional<Condition> verified(TrainingJob j) {
    return j.getStatus().conditions.stream()
        .filter(c -> "Verified".equals(c.getType()))
        .findFirst();
  }

  private List<Event> events(String job, String reason) {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> job.equals(e.getInvolvedObject().getName()))
        .filter(e -> reason.equals(e.getReason()))
        .collect(Collectors.toList());
  }

  private static String provider(String node) {
    return "prov-" + node;
  }

  @Test
  void anHonestJobIsVerifiedIntervalByIntervalAndSucceedsOnlyOnceTheLastOneIsChecked() {
    String region = "sc-honest";
    node("sc-honest-t", provider("sc-honest-t"), "0.30", region);
    node("sc-honest-v", provider("sc-honest-v"), "0.40", region);
    trainerLog("sc-honest-worker-0", 10, 20);
    client.resource(job("sc-honest", region)).create();

    TrainingJob running =
        awaitJob("sc-honest", j -> j.getStatus().phase == TrainingJobPhase.Running);
    assertThat(running.getStatus().placements)
        .singleElement()
        .satisfies(p -> assertThat(p.node).isEqualTo("sc-honest-t"));
    Pod first = awaitPod("sc-honest", "verifier", p -> true);
    // another provider replays, billed to the job: listed in status, with the job's owner
    assertThat(first.getSpec().getNodeName()).isEqualTo("sc-honest-v");
    assertThat(first.getSpec().getContainers().get(0).getArgs())
        .containsSubsequence("/workloads/ddp_train.py", "--steps", "20", "--verify", "0:10");
    assertThat(first.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getName()).isEqualTo("sc-honest"));
    assertThat(first.getMetadata().getAnnotations()).isNotEmpty(); // billing terms
    TrainingJob checking =
        awaitJob(
            "sc-honest",
            j ->
                j.getStatus().verification != null
                    && j.getStatus().verification.pods != null
                    && !j.getStatus().verification.pods.isEmpty());
    assertThat(checking.getStatus().verification.pods.get(0).pod)
        .isEqualTo(first.getMetadata().getName());
    assertThat(checking.getStatus().verification.sampledIntervals).isEqualTo(1);

    finish(first, replay(0, 10, "[1,2.0e-17],[10,1.2e-16]"));
    Pod second =
        awaitPod(
            "sc-honest",
            "verifier",
            p -> p.getStatus() == null || p.getStatus().getPhase() == null);
    assertThat(second.getSpec().getContainers().get(0).getArgs()).contains("10:20");
    TrainingJob oneDone =
        awaitJob("sc-honest", j -> j.getStatus().verification.verifiedIntervals == 1);
    assertThat(oneDone.getStatus().verification.verifiedIntervals).isEqualTo(1);
    assertThat(oneDone.getStatus().verification.lastVerifiedCheckpoint).isEqualTo(10L);
    assertThat(verified(oneDone))
        .hasValueSatisfying(c -> assertThat(c.getStatus()).isEqualTo("True"));

    // the trainer ends while interval 10..20 is still being checked: not Succeeded yet
    new FakeKubelet(client).succeed(pods("sc-honest", null).get(0));
    TrainingJob waiting =
        awaitJob(
            "sc-honest",
            j ->
                j.getStatus().conditions.stream().anyMatch(c -> "Verifying".equals(c.getReason())));
    assertThat(waiting.getStatus().phase).isEqualTo(TrainingJobPhase.Running);

    finish(second, replay(10, 20, "[15,3.0e-17],[20,2.0e-16]"));
    TrainingJob done =
        awaitJob("sc-honest", j -> j.getStatus().phase == TrainingJobPhase.Succeeded);
    assertThat(done.getStatus().verification.verifiedIntervals).isEqualTo(2);
    assertThat(done.getStatus().verification.sampledIntervals).isEqualTo(2);
    assertThat(done.getStatus().verification.failedIntervals).isZero();
    assertThat(done.getStatus().verification.lastVerifiedCheckpoint).isEqualTo(20L);
    double verifying = Double.parseDouble(done.getStatus().verification.gpuSeconds);
    assertThat(verifying).isGreaterThan(0);
    assertThat(done.getStatus().verification.pods)
        .extracting(p -> p.outcome)
        .containsExactly("verified", "verified");
    assertThat(verified(done))
        .hasValueSatisfying(
            c -> {
              assertThat(c.getStatus()).isEqualTo("True");
              assertThat(c.getReason()).isEqualTo("SpotChecksPassed");
              assertThat(c.getMessage()).contains("2 of 2 sampled intervals verified");
            });
    // the verifiers' GPU time is metered to the job's payer like a rank's, under their provider,
    // and agrees with what status shows once the meter has seen both end (status rounds each pod
    // to 0.1 s; both count from the container's start, not before the pod's creation, to its end)
    awaitJob(
        "sc-honest",
        j ->
            j.getStatus().usage != null
                && j.getStatus().usage.byProvider != null
                && j.getStatus().usage.byProvider.stream()
                    .anyMatch(
                        p ->
                            "prov-sc-honest-v".equals(p.provider)
                                && Math.abs(Double.parseDouble(p.gpuSeconds) - verifying) <= 0.15));
    TrainingJob metered = get("sc-honest");
    System.out.printf(
        "[spot-check] verifier GPU-s: status %s (pods %s), metered %s%n",
        verifying,
        metered.getStatus().verification.pods.stream().map(p -> p.gpuSeconds).toList(),
        metered.getStatus().usage.byProvider.stream()
            .filter(p -> "prov-sc-honest-v".equals(p.provider))
            .map(p -> p.gpuSeconds)
            .toList());
  }

  @Test
  void aCheatIsRefereedDisputedQuarantinedAndTheGangResumesFromTheLastVerifiedCheckpoint() {
    String region = "sc-cheat";
    node("sc-cheat-t", provider("sc-cheat-t"), "0.30", region);
    node("sc-cheat-v", provider("sc-cheat-v"), "0.40", region);
    node("sc-cheat-r", provider("sc-cheat-r"), "0.50", region);
    node("sc-cheat-n", provider("sc-cheat-n"), "0.60", region);
    trainerLog("sc-cheat-worker-0", 10, 20);
    trainerLog("sc-cheat-worker-0-r1"); // fails before its first checkpoint
    trainerLog("sc-cheat-worker-0-r2", 20);
    client.resource(job("sc-cheat", region)).create();

    awaitJob("sc-cheat", j -> j.getStatus().phase == TrainingJobPhase.Running);
    finish(awaitPod("sc-cheat", "verifier", p -> true), replay(0, 10, "[10,1.0e-16]"));
    // the provider skipped step 15: the replay leaves the tolerance there and stays out
    Pod replay =
        awaitPod(
            "sc-cheat",
            "verifier",
            p -> p.getSpec().getContainers().get(0).getArgs().contains("10:20"));
    finish(replay, replay(10, 20, "[12,1.0e-16],[14,1.1e-16],[15,0.14],[17,0.15],[20,0.16]"));

    Pod referee = awaitPod("sc-cheat", "referee", p -> true);
    // a third provider: neither the trainer's nor the verifier's
    assertThat(referee.getSpec().getNodeName()).isEqualTo("sc-cheat-r");
    assertThat(referee.getSpec().getContainers().get(0).getArgs())
        .containsSubsequence("--verify", "10:20", "--referee", "15", "--rank", "0");
    TrainingJob mismatch =
        awaitJob("sc-cheat", j -> j.getStatus().verification.failedIntervals == 1);
    assertThat(mismatch.getStatus().verification.failedIntervals).isEqualTo(1);
    finish(
        referee,
        "{\"step\":15,\"rank\":0,\"from\":14,\"committed\":\""
            + "ab".repeat(32)
            + "\",\"toProvider\":0.14,\"toVerifier\":1.2e-16}");

    TrainingJob moved =
        awaitJob(
            "sc-cheat",
            j ->
                j.getStatus().restarts != null
                    && j.getStatus().restarts == 1
                    && j.getStatus().placements != null);
    assertThat(moved.getStatus().placements)
        .singleElement()
        .satisfies(p -> assertThat(p.node).isNotEqualTo("sc-cheat-t"));
    assertThat(moved.getStatus().verification.disputes).isEqualTo(1);
    assertThat(moved.getStatus().verification.lastVerifiedCheckpoint).isEqualTo(10L);
    assertThat(verified(moved))
        .hasValueSatisfying(
            c -> {
              assertThat(c.getStatus()).isEqualTo("False");
              assertThat(c.getReason()).isEqualTo("ProviderAtFault");
              assertThat(c.getMessage())
                  .contains("provider prov-sc-cheat-t cheated")
                  .contains("step 15 recomputed")
                  .contains("sc-cheat-t quarantined")
                  .contains("resumes from the last verified checkpoint, step 10");
            });
    Pod resumed = awaitPod("sc-cheat", null, p -> p.getMetadata().getName().endsWith("-r1"));
    new FakeKubelet(client).run(resumed);
    assertThat(resumed.getSpec().getContainers().get(0).getEnv())
        .extracting(EnvVar::getName, EnvVar::getValue)
        .contains(
            org.assertj.core.groups.Tuple.tuple("GPUPOOL_RESUME_STEP", "10"),
            org.assertj.core.groups.Tuple.tuple(
                "GPUPOOL_RESUME_FROM", "file:///tmp/ckpt/sc-cheat"));
    // The resumed gang fails before writing a checkpoint of its own (in the sandbox: its
    // rendezvous port still held by the caught gang's exiting process). The ordinary restart
    // must not load the latest checkpoint: step 20 is the cheat's.
    new FakeKubelet(client).fail(resumed, 1);
    resumed = awaitPod("sc-cheat", null, p -> p.getMetadata().getName().endsWith("-r2"));
    new FakeKubelet(client).run(resumed);
    assertThat(resumed.getSpec().getContainers().get(0).getEnv())
        .extracting(EnvVar::getName, EnvVar::getValue)
        .as("a restart after a proven cheat resumes from a verified checkpoint only")
        .contains(org.assertj.core.groups.Tuple.tuple("GPUPOOL_RESUME_STEP", "10"));
    // the quarantine is the provider's, as for a failed challenge
    await()
        .atMost(TIMEOUT)
        .until(
            () -> client.resources(GpuProvider.class).withName("prov-sc-cheat-t").get(),
            p ->
                p.getStatus() != null
                    && p.getStatus().challenges != null
                    && p.getStatus().challenges.quarantined != null
                    && p.getStatus().challenges.quarantined.stream()
                        .anyMatch(q -> "sc-cheat-t".equals(q.node)));
    // billing is off in this profile: the filer says so, and the event carries its answer
    await().atMost(TIMEOUT).until(() -> !events("sc-cheat", "SpotCheckDispute").isEmpty());
    assertThat(events("sc-cheat", "SpotCheckDispute").get(0).getMessage())
        .contains("prov-sc-cheat-t: billing_off");

    // the new gang's interval 10..20 is checked again and passes; then the job Succeeds
    Pod again =
        awaitPod(
            "sc-cheat", "verifier", p -> p.getStatus() == null || p.getStatus().getPhase() == null);
    assertThat(again.getSpec().getContainers().get(0).getArgs()).contains("10:20");
    assertThat(again.getSpec().getNodeName())
        .isNotEqualTo("sc-cheat-t")
        .isNotEqualTo(resumed.getSpec().getNodeName());
    finish(again, replay(10, 20, "[15,1.0e-16],[20,1.5e-16]"));
    new FakeKubelet(client).succeed(resumed);
    TrainingJob done = awaitJob("sc-cheat", j -> j.getStatus().phase == TrainingJobPhase.Succeeded);
    assertThat(done.getStatus().verification.verifiedIntervals).isEqualTo(2);
    assertThat(done.getStatus().verification.lastVerifiedCheckpoint).isEqualTo(20L);
    assertThat(done.getStatus().verification.pods)
        .extracting(p -> p.role + ":" + p.outcome)
        .containsExactly(
            "verifier:verified",
            "verifier:mismatch",
            "referee:provider_at_fault",
            "verifier:verified");
    assertThat(done.getStatus().verification.pods)
        .extracting((VerificationPod p) -> p.provider)
        .doesNotContain("prov-sc-cheat-t");
  }
}
