package io.gpupool.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.Autoscaling;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.InferenceVerification;
import io.gpupool.api.v1alpha1.InferenceVerificationMode;
import io.gpupool.operator.inference.TestCanaryClient;
import io.gpupool.operator.inference.TestLoadSignal;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Canary cross-checks against the mock API server with test replicas ({@link TestCanaryClient}): a
 * replica serving another model is caught, its node quarantined, a dispute asked for and the
 * replica replaced on another provider while the honest ones keep serving; and canaries never show
 * in the load the autoscaler reads, although a replica's gauge counts them while it answers.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
@TestProfile(InferenceJobIT.Fast.class)
class InferenceCrossCheckIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final String NS = "default";
  private static final String RTX4090 = "NVIDIA-GeForce-RTX-4090";

  @Inject KubernetesClient client;

  private void node(String name, String provider, String region) {
    TestNodes.join(client, name, provider, RTX4090, "0.40", 24564, region);
  }

  /** A job cross-checking its replicas (4 canaries every 10 s), one replica per GPU. */
  private static InferenceJob job(String name, String region, int replicas, int max) {
    InferenceJob job = TestJobs.serving(NS, name, region, replicas, max);
    InferenceJobSpec spec = job.getSpec();
    spec.allowGpuSharing = false;
    spec.verification = new InferenceVerification();
    spec.verification.mode = InferenceVerificationMode.CrossCheck;
    spec.verification.canaryIntervalSeconds = 10;
    spec.verification.canariesPerCheck = 4;
    return job;
  }

  private InferenceJob get(String name) {
    return client.resources(InferenceJob.class).inNamespace(NS).withName(name).get();
  }

  private List<Pod> live(String job) {
    return new FakeKubelet(client).live(NS, job);
  }

  private InferenceJob awaitJob(String name, Predicate<InferenceJob> done) {
    return new ClusterWaits(client, TIMEOUT).serving(NS, name, done);
  }

  private List<Event> events(String job, String reason) {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> job.equals(e.getInvolvedObject().getName()))
        .filter(e -> reason.equals(e.getReason()))
        .collect(Collectors.toList());
  }

  private static Map<String, String> nodesByPod(List<Pod> pods) {
    return pods.stream()
        .collect(Collectors.toMap(p -> p.getMetadata().getName(), p -> p.getSpec().getNodeName()));
  }

  @Test
  void aReplicaServingAnotherModelIsCaughtQuarantinedDisputedAndReplacedElsewhere() {
    String region = "cc-wrong";
    node("cc-wrong-a", "prov-cc-a", region);
    node("cc-wrong-b", "prov-cc-b", region);
    node("cc-wrong-cheat", "prov-cc-cheat", region);
    TestCanaryClient.serveWrongModel("cc-wrong-cheat");
    client.resource(job("cc-wrong", region, 3, 3)).create();

    awaitJob(
        "cc-wrong",
        j -> j.getStatus().verification != null && j.getStatus().verification.disputes != null);
    InferenceJob caught = get("cc-wrong");
    assertThat(caught.getStatus().verification.checks).isEqualTo(1);
    assertThat(caught.getStatus().verification.disagreements).isEqualTo(1);
    assertThat(caught.getStatus().verification.disputes).isEqualTo(1);
    assertThat(caught.getStatus().verification.lastResult).contains("prov-cc-cheat");
    Map<String, String> honest = nodesByPod(live("cc-wrong"));
    assertThat(honest.values()).containsExactlyInAnyOrder("cc-wrong-a", "cc-wrong-b");
    assertThat(events("cc-wrong", "CanaryMismatch"))
        .singleElement()
        .satisfies(
            e ->
                assertThat(e.getMessage())
                    .contains("on cc-wrong-cheat (prov-cc-cheat)")
                    .contains("node quarantined, replica replaced, dispute filed")
                    .containsPattern("evidence 0x[0-9a-f]{64}"));
    // billing is off in this profile: the filer says so, and the event carries its answer
    await().atMost(TIMEOUT).until(() -> !events("cc-wrong", "CanaryDispute").isEmpty());
    assertThat(events("cc-wrong", "CanaryDispute").get(0).getMessage())
        .contains("dispute against prov-cc-cheat: billing_off");

    // the quarantined node takes no replacement; a new provider's node does
    node("cc-wrong-d", "prov-cc-d", region);
    InferenceJob replaced =
        awaitJob(
            "cc-wrong",
            j ->
                j.getStatus().readyReplicas != null
                    && j.getStatus().readyReplicas == 3
                    && live("cc-wrong").size() == 3);
    Map<String, String> after = nodesByPod(live("cc-wrong"));
    assertThat(after.values()).containsExactlyInAnyOrder("cc-wrong-a", "cc-wrong-b", "cc-wrong-d");
    assertThat(after).containsAllEntriesOf(honest); // the honest replicas were left alone
    assertThat(replaced.getStatus().verification.disputes).isEqualTo(1);
  }

  @Test
  void canariesAreNeverCountedAsUserLoadByTheAutoscaler() throws Exception {
    String region = "cc-load";
    node("cc-load-a", "prov-cc-la", region);
    node("cc-load-b", "prov-cc-lb", region);
    node("cc-load-c", "prov-cc-lc", region);
    node("cc-load-d", "prov-cc-ld", region);
    InferenceJob job = job("cc-load", region, 3, 4);
    // one in-flight request per replica is the target: 4 canaries counted would scale up at once
    job.getSpec().autoscaling = new Autoscaling();
    job.getSpec().autoscaling.targetInFlightRequests = 1;
    TestLoadSignal.set("cc-load", 0.0);
    int servedBefore = TestCanaryClient.served();
    client.resource(job).create();

    awaitJob(
        "cc-load",
        j -> j.getStatus().verification != null && j.getStatus().verification.checks != null);
    // load polls every 500 ms; keep polling for a while after the check
    Thread.sleep(3000);
    InferenceJob after = get("cc-load");
    assertThat(TestCanaryClient.served() - servedBefore)
        .as("every replica answered its 4 canaries")
        .isGreaterThanOrEqualTo(12);
    assertThat(after.getStatus().verification.lastResult).contains("3 providers agreed");
    assertThat(after.getStatus().desiredReplicas).isEqualTo(3);
    assertThat(events("cc-load", "ScaledUp")).isEmpty();
    assertThat(live("cc-load")).hasSize(3);
    assertThat(after.getStatus().verification.gpuSeconds)
        .as("three one-GPU replicas answering for ~%d ms", TestCanaryClient.ANSWER_MILLIS)
        .isGreaterThan(0.5)
        .isLessThan(5.0);
  }
}
