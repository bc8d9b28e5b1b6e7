package io.gpupool.operator.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.operator.allocation.AllocationLedger;
import io.gpupool.operator.allocation.PodTracker;
import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.gpupool.operator.it.TestNodes;
import io.gpupool.operator.leader.Leadership;
import io.gpupool.operator.provider.ReliabilityTracker;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.scheduler.trust.Challenge;
import io.gpupool.scheduler.trust.ChallengeWork;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A challenge in flight when its operator dies: the pod its predecessor created is still in the
 * cluster, and the new leader adopts and judges it instead of deleting it. A wrong answer given
 * after the restart is judged as fraud (quarantine), the node's GPUs are held meanwhile; a correct
 * answer given while no operator led, whose time is therefore unknown, is neither passed nor
 * failed: the node is challenged again, outside the budget. The "restart" is a second {@link
 * ChallengeRunner} over the cluster's state, driven round by round with its clock given. The same
 * runner shows that a challenge never takes GPUs a job holds and holds an idle node's GPUs only
 * until its last deadline.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class ChallengeRestartIT {
  static final Duration TIMEOUT = Duration.ofSeconds(20);
  static final String NS = "challenge-restart";
  static final String PRODUCT = "NVIDIA-GeForce-RTX-4090";
  static final SecureRandom RANDOM = new SecureRandom();

  @Inject KubernetesClient client;
  @Inject NodeInventory inventory;
  @Inject AllocationLedger ledger;
  @Inject TrustLedger trust;
  @Inject ReliabilityTracker reliability;
  @Inject EventRecorder events;
  @Inject ChallengeDisputes disputes;
  @Inject ChallengeMetrics metrics;
  @Inject Leadership leadership;
  @Inject ProviderDirectory providers;
  @Inject PodTracker pods;
  private final List<String> created = new ArrayList<>();

  /** The app is shared with other ITs: their jobs must not find these nodes. */
  @AfterEach
  void removePool() {
    for (String name : created) {
      client.nodes().withName(name).delete();
      client.resources(GpuProvider.class).withName(name).delete();
    }
    created.clear();
  }

  @Test
  void aWrongAnswerGivenAfterARestartIsJudgedByTheNewLeader() {
    String node = pool("restart-wrong");
    Challenge challenge = Challenge.fresh(RANDOM, 16, 4);
    // The predecessor created the pod and died before the answer came.
    Pod pod = client.pods().inNamespace(NS).resource(challengePod(node, challenge)).create();
    Instant created = Instant.parse(pod.getMetadata().getCreationTimestamp());

    ChallengeRunner next = runner();
    assertThat(next.resumeInFlight(created.plusSeconds(2))).isTrue();
    assertThat(client.pods().inNamespace(NS).withName(podName(pod)).get())
        .as("adopted, not deleted")
        .isNotNull();
    assertThat(ledger.holds(ChallengeRunner.HOLDER_PREFIX + node))
        .as("its GPUs held until the verdict")
        .isTrue();

    answer(pod, "0".repeat(challenge.rounds() * 16));
    next.pollRunning(created.plusSeconds(3));
    assertThat(reliability.reliability(node).failures)
        .as("the failed challenge counts against the provider's reliability")
        .isEqualTo(1);
    assertThat(reliability.reliability(node).score).isCloseTo(0.8, offset(0.001));

    assertThat(trust.quarantined(Map.of(node, PRODUCT))).containsKey(node);
    assertThat(trust.quarantined(Map.of(node, PRODUCT)).get(node).reason())
        .isEqualTo("wrong challenge result");
    assertThat(ledger.holds(ChallengeRunner.HOLDER_PREFIX + node)).isFalse();
    await()
        .atMost(TIMEOUT)
        .until(() -> client.pods().inNamespace(NS).withName(podName(pod)).get() == null);
  }

  @Test
  void aCorrectAnswerInTimeIsPassedAndOneOfUnknownTimeIsChallengedAgain() {
    String inTime = pool("restart-in-time");
    String unknown = pool("restart-unknown");
    Challenge first = Challenge.fresh(RANDOM, 16, 4);
    Challenge second = Challenge.fresh(RANDOM, 16, 4);

    // Answered correctly while no operator led; the new leader comes up 2 s after the pod was
    // created: the answer came in time whenever it came.
    Pod fast = client.pods().inNamespace(NS).resource(challengePod(inTime, first)).create();
    answer(fast, ChallengeWork.answer(first));
    reliability.challengeFailed(inTime); // an earlier failure on the provider's record
    assertThat(reliability.reliability(inTime).score).isCloseTo(0.8, offset(0.001));
    runner()
        .resumeInFlight(Instant.parse(fast.getMetadata().getCreationTimestamp()).plusSeconds(2));
    assertThat(reliability.reliability(inTime).score)
        .as("the pass wins back half a failure: 1 / (1 + 0.25 × 0.5)")
        .isCloseTo(0.8889, offset(0.001));
    assertThat(trust.unchallenged(inTime, PRODUCT)).as("judged: passed").isFalse();
    assertThat(trust.quarantined(Map.of(inTime, PRODUCT))).isEmpty();
    assertThat(trust.due(inTime, PRODUCT, Instant.now())).as("next challenge at random").isFalse();

    // The same, but the new leader comes up ten minutes later: nobody can say whether the answer
    // came in time, so it is neither passed nor judged too slow.
    Pod late = client.pods().inNamespace(NS).resource(challengePod(unknown, second)).create();
    answer(late, ChallengeWork.answer(second));
    ChallengeRunner next = runner();
    next.resumeInFlight(Instant.parse(late.getMetadata().getCreationTimestamp()).plusSeconds(600));
    assertThat(trust.quarantined(Map.of(unknown, PRODUCT))).as("not judged too slow").isEmpty();
    assertThat(trust.unchallenged(unknown, PRODUCT)).as("no verdict recorded").isTrue();
    assertThat(next.reissuing())
        .as("challenged again, outside the budget")
        .containsExactly(unknown);
    assertThat(ledger.holds(ChallengeRunner.HOLDER_PREFIX + unknown)).isFalse();
    await()
        .atMost(TIMEOUT)
        .until(() -> client.pods().inNamespace(NS).withName(podName(late)).get() == null);
  }

  /**
   * The rule: a challenge starts only on a node none of whose GPU slots is held, decided under the
   * allocation ledger's lock; it then holds all the node's slots, so a job arriving meanwhile is
   * placed elsewhere or waits, for at most the challenge's last deadline (plus one tick), after
   * which its pod is deleted and the GPUs released, answer or not.
   */
  @Test
  void aChallengeNeverTakesGpusAJobHoldsAndHoldsAnIdleNodeOnlyUntilItsLastDeadline() {
    String busy = pool("busy-node");
    String idle = pool("idle-node");
    String job = "trainingjob:default/holds-busy-node";
    ledger.decide(
        () -> {
          ledger.hold(job, Map.of(busy, 1));
          return true;
        });
    try {
      ChallengeRunner runner = runner();
      Instant start = Instant.now();
      runner.startDue(start, List.of(inventory.node(busy).get(), inventory.node(idle).get()));

      assertThat(ledger.holds(ChallengeRunner.HOLDER_PREFIX + busy))
          .as("busy: untouched")
          .isFalse();
      assertThat(ledger.heldBy(job)).containsEntry(busy, 1);
      assertThat(challengePods(busy)).isEmpty();
      assertThat(ledger.holds(ChallengeRunner.HOLDER_PREFIX + idle))
          .as("idle: challenged")
          .isTrue();
      assertThat(challengePods(idle)).hasSize(1);
      // Held (the challenge pod itself may count again as a foreign pod): no slot for a job.
      assertThat(ledger.usedByNode().getOrDefault(idle, 0))
          .as("no slot left for a job meanwhile")
          .isGreaterThanOrEqualTo(1);

      // The node never answers: held until the last deadline, released right after it.
      Duration limit = runner.holdLimit(idle).orElseThrow();
      assertThat(limit).isGreaterThan(Duration.ofSeconds(5)).isLessThan(Duration.ofMinutes(2));
      runner.pollRunning(start.plus(limit).minusSeconds(1));
      assertThat(ledger.holds(ChallengeRunner.HOLDER_PREFIX + idle)).isTrue();
      runner.pollRunning(start.plus(limit).plusMillis(1));
      assertThat(ledger.holds(ChallengeRunner.HOLDER_PREFIX + idle))
          .as("released at the deadline")
          .isFalse();
      await().atMost(TIMEOUT).until(() -> ledger.usedByNode().getOrDefault(idle, 0) == 0);
      assertThat(trust.quarantined(Map.of(idle, PRODUCT)).get(idle).reason())
          .startsWith("challenge too slow");
      await().atMost(TIMEOUT).until(() -> challengePods(idle).isEmpty());
    } finally {
      ledger.release(job);
    }
  }

  private List<Pod> challengePods(String node) {
    return client
        .pods()
        .inNamespace(NS)
        .withLabel(ChallengePods.CHALLENGE_LABEL, node)
        .list()
        .getItems();
  }

  private static String podName(Pod pod) {
    return pod.getMetadata().getName();
  }

  private static Pod challengePod(String node, Challenge challenge) {
    return ChallengePods.build(NS, node, 1, challenge, "ghcr.io/gpupool/workloads:0.1");
  }

  /** What the node's kubelet reports when the challenge program ends with {@code digests}. */
  private void answer(Pod pod, String digests) {
    client
        .pods()
        .inNamespace(NS)
        .withName(podName(pod))
        .editStatus(
            p -> {
              p.setStatus(new PodStatus());
              p.getStatus().setPhase("Succeeded");
              p.getStatus()
                  .setContainerStatuses(
                      List.of(
                          new ContainerStatusBuilder()
                              .withName(ChallengePods.CONTAINER)
                              .withNewState()
                              .withNewTerminated()
                              .withExitCode(0)
                              .withMessage(digests)
                              .endTerminated()
                              .endState()
                              .build()));
              return p;
            });
  }

  /** One provider with one idle RTX 4090 node, both named {@code name}; returns the node's name. */
  private String pool(String name) {
    TestNodes.join(client, name, name, PRODUCT, "0.40", 24564, "restart");
    created.add(name);
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                inventory.node(name).isPresent()
                    && providers.provider(name).isPresent()
                    && pods.ready());
    return name;
  }

  /**
   * A new leader's runner: challenges on, 16² rounds, a 1 s target and a 5 s start-up allowance.
   */
  private ChallengeRunner runner() {
    return new ChallengeRunner(
        new Config(Optional.empty()),
        client,
        inventory,
        ledger,
        trust,
        reliability,
        events,
        disputes,
        metrics,
        leadership,
        providers,
        pods);
  }

  /** The runner's settings; with {@code openingPort}, commit-then-open on that port. */
  static final class Config implements GpupoolConfig.Trust.Challenge {
    private final Optional<Integer> openingPort;

    Config(Optional<Integer> openingPort) {
      this.openingPort = openingPort;
    }

    @Override
    public boolean openings() {
      return openingPort.isPresent();
    }

    @Override
    public Duration openingWindow() {
      return Duration.ofSeconds(3);
    }

    @Override
    public int openingPort() {
      return openingPort.orElse(8471);
    }

    @Override
    public boolean enabled() {
      return true;
    }

    @Override
    public Duration meanInterval() {
      return Duration.ofHours(6);
    }

    @Override
    public double budget() {
      return 0.02;
    }

    @Override
    public int maxConcurrent() {
      return 4;
    }

    @Override
    public int size() {
      return 16;
    }

    @Override
    public Duration target() {
      return Duration.ofSeconds(1);
    }

    @Override
    public int maxRounds() {
      return 240;
    }

    @Override
    public Optional<List<String>> rates() {
      return Optional.empty();
    }

    @Override
    public int samples() {
      return 4;
    }

    @Override
    public double efficiency() {
      return 0.4;
    }

    @Override
    public double tolerance() {
      return 1.6;
    }

    @Override
    public double speedCorrectionFloor() {
      return 0.25;
    }

    @Override
    public Duration startupAllowance() {
      return Duration.ofSeconds(5);
    }

    @Override
    public String image() {
      return "ghcr.io/gpupool/workloads:0.1";
    }

    @Override
    public Optional<String> namespace() {
      return Optional.of(NS);
    }

    @Override
    public Duration tick() {
      return Duration.ofSeconds(1);
    }
  }
}
