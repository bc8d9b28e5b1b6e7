package io.gpupool.operator.it;

import static io.gpupool.operator.it.BillingFixture.NS;
import static io.gpupool.operator.it.BillingFixture.PAYER;
import static io.gpupool.operator.it.BillingFixture.RTX4090;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.ChallengeRecord;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.api.v1alpha1.RankPlacement;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.billing.TokenUnits;
import io.gpupool.operator.billing.PlacementTerms;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.trust.TrustLedger;
import io.gpupool.operator.trust.VerifiedCondition;
import io.gpupool.scheduler.trust.ChallengeVerdict;
import io.gpupool.scheduler.trust.ChallengeVerdict.Outcome;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A node a hardware challenge measured at half the speed its labels claim (the verdict the
 * challenge runner records, {@code SpeedCorrectionTest} in gpu-scheduler classifies it): its
 * provider's status lists the rating and its Verified condition says SpeedCorrected, a job placed
 * on it gives it a smaller share of the batch and its pod is billed at half the listed price; a
 * challenge at the claimed speed restores it.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class SpeedCorrectionIT {
  static final Duration TIMEOUT = Duration.ofSeconds(20);
  static final String PROVIDER = "prov-r-speed";
  static final String SLOW = "r-speed-n1";

  @Inject KubernetesClient client;
  @Inject TrustLedger trust;
  @Inject NodeInventory nodes;

  @Test
  void aSlowerNodeIsPlannedAndBilledAtItsMeasuredSpeedUntilRestored() {
    BillingFixture.pool(client, "r-speed", null, 2);
    await().atMost(TIMEOUT).until(() -> nodes.node(SLOW).isPresent());
    trust.record(
        SLOW,
        PROVIDER,
        RTX4090,
        new ChallengeVerdict(
            Outcome.SLOWER, "correct but slow: computing at about 50 % of " + RTX4090, 0.5),
        Instant.now(),
        Duration.ofHours(1));

    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                challenges().map(c -> c.speedCorrected).filter(l -> l.size() == 1).isPresent()
                    && verified().map(c -> "SpeedCorrected".equals(c.getReason())).orElse(false));
    var rated = challenges().orElseThrow().speedCorrected.get(0);
    assertThat(rated.node).isEqualTo(SLOW);
    assertThat(rated.product).isEqualTo(RTX4090);
    assertThat(rated.speedFactor).isEqualTo(0.5);
    assertThat(rated.message).contains("computing at about 50 %");
    assertThat(challenges().orElseThrow().quarantined).isNull();
    Condition condition = verified().orElseThrow();
    assertThat(condition.getStatus()).isEqualTo("True");
    assertThat(condition.getMessage())
        .contains("planned and priced at the speed measured: " + SLOW + " at 50 % of " + RTX4090);

    // Placed on both nodes (nothing else fits): the slow one is billed at half the price and
    // takes the smaller share of the batch.
    client.resource(BillingFixture.job("speed", "r-speed", 2, PAYER)).create();
    List<Pod> pods = BillingFixture.awaitPods(client, "speed", 2);
    Map<String, String> priceByNode =
        pods.stream()
            .collect(
                Collectors.toMap(
                    p -> p.getSpec().getNodeName(),
                    p -> p.getMetadata().getAnnotations().get(PlacementTerms.PRICE_ANNOTATION)));
    assertThat(priceByNode)
        .containsEntry(SLOW, TokenUnits.toWei("0.20").toString())
        .containsEntry("r-speed-n0", TokenUnits.toWei("0.40").toString());
    List<RankPlacement> ranks =
        await()
            .atMost(TIMEOUT)
            .until(
                () -> {
                  TrainingJob j =
                      client.resources(TrainingJob.class).inNamespace(NS).withName("speed").get();
                  return j.getStatus() == null || j.getStatus().placements == null
                      ? List.<RankPlacement>of()
                      : j.getStatus().placements;
                },
                l -> l.size() == 2);
    double slowShare = share(ranks, SLOW);
    assertThat(slowShare).isLessThan(0.4);
    assertThat(slowShare + share(ranks, "r-speed-n0")).isCloseTo(1.0, within(0.01));

    // A challenge in time for the claimed product restores the node.
    trust.record(
        SLOW,
        PROVIDER,
        RTX4090,
        new ChallengeVerdict(Outcome.PASSED, "correct answer after 2.0 s"),
        Instant.now(),
        Duration.ofHours(1));
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                challenges().map(c -> c.speedCorrected == null).orElse(false)
                    && verified().map(c -> "ChallengePassed".equals(c.getReason())).orElse(false));
    client.resources(TrainingJob.class).inNamespace(NS).withName("speed").delete();
  }

  private static double share(List<RankPlacement> ranks, String node) {
    return ranks.stream()
        .filter(r -> node.equals(r.node))
        .mapToDouble(r -> Double.parseDouble(r.batchShare))
        .findFirst()
        .orElseThrow();
  }

  private static org.assertj.core.data.Offset<Double> within(double d) {
    return org.assertj.core.data.Offset.offset(d);
  }

  private Optional<GpuProvider> provider() {
    return Optional.ofNullable(client.resources(GpuProvider.class).withName(PROVIDER).get());
  }

  private Optional<ChallengeRecord> challenges() {
    return provider().map(GpuProvider::getStatus).map(s -> s.challenges).filter(c -> c != null);
  }

  private Optional<Condition> verified() {
    return provider()
        .map(GpuProvider::getStatus)
        .flatMap(
            s ->
                s.conditions == null
                    ? Optional.empty()
                    : s.conditions.stream()
                        .filter(c -> VerifiedCondition.TYPE.equals(c.getType()))
                        .findFirst());
  }
}
