package io.gpupool.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.Autoscaling;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.PlacementPolicy;
import io.gpupool.api.v1alpha1.ReplicaRange;
import io.gpupool.api.v1alpha1.Sharding;
import io.gpupool.operator.inference.TestLoadSignal;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * InferenceJob against the mock API server: a 70B model sharded across 24 GiB cards, small replicas
 * packed onto time-sliced GPUs, scaling 1 → 4 → 1 on a test load signal, a node lost while serving,
 * a failed shard, a rolling update and an unschedulable job. Each test owns a region.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
@TestProfile(InferenceJobIT.Fast.class)
class InferenceJobIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final String NS = "default";
  private static final String RTX4090 = "NVIDIA-GeForce-RTX-4090";
  private static final String A100 = "NVIDIA-A100-SXM4-80GB";

  /** Short poll and drain periods so scaling tests take seconds. */
  public static class Fast implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "gpupool.inference.load-poll-interval", "500ms",
          "gpupool.inference.drain-period", "1s");
    }
  }

  @Inject KubernetesClient client;

  @TestHTTPResource("/q/metrics")
  URL metricsEndpoint;

  /**
   * The value of {@code metric} for the series whose labels include every {@code labels} pair, as
   * Prometheus would scrape it from the operator's metrics endpoint; empty when not exported.
   */
  private OptionalDouble scraped(String metric, String... labels) throws Exception {
    String text =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(metricsEndpoint.toURI()).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    return text.lines()
        .filter(l -> l.startsWith(metric + "{"))
        .filter(
            l -> {
              for (int i = 0; i < labels.length; i += 2) {
                if (!l.contains(labels[i] + "=\"" + labels[i + 1] + "\"")) {
                  return false;
                }
              }
              return true;
            })
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .findFirst();
  }

  private FakeKubelet kubelet() {
    return new FakeKubelet(client);
  }

  /** One node per provider, each provider pricing both products. */
  private void node(
      String name, String provider, String product, int gpus, int memMiB, String region) {
    provider(provider);
    client.resource(TestNodes.gpuNode(name, provider, product, gpus, memMiB, region)).create();
  }

  private void provider(String provider) {
    if (client.resources(io.gpupool.api.v1alpha1.GpuProvider.class).withName(provider).get()
        == null) {
      client.resource(TestNodes.provider(provider, RTX4090, "0.40", A100, "1.50")).create();
    }
  }

  private static InferenceJob job(
      String name, String region, String params, int layers, int min, int max) {
    InferenceJob job = new InferenceJob();
    job.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NS).build());
    InferenceJobSpec spec = new InferenceJobSpec();
    spec.image = "ghcr.io/example/serve:1";
    spec.port = 8000;
    spec.model = new ModelSpec();
    spec.model.parameters = params;
    spec.model.layers = layers;
    spec.replicas = new ReplicaRange();
    spec.replicas.min = min;
    spec.replicas.max = max;
    spec.placement = new PlacementPolicy();
    spec.placement.regions = List.of(region);
    job.setSpec(spec);
    return job;
  }

  private InferenceJob get(String name) {
    return client.resources(InferenceJob.class).inNamespace(NS).withName(name).get();
  }

  /** Waits for {@code done}, running every new pod of the job like a kubelet would meanwhile. */
  private InferenceJob awaitJob(String name, boolean runPods, Predicate<InferenceJob> done) {
    try {
      return awaitJobOrThrow(name, runPods, done);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(
          "InferenceJob "
              + name
              + " status:\n"
              + io.fabric8.kubernetes.client.utils.Serialization.asYaml(get(name).getStatus())
              + "pods:\n"
              + live(name).stream()
                  .map(
                      p ->
                          p.getMetadata().getName()
                              + " on "
                              + p.getSpec().getNodeName()
                              + " "
                              + (p.getStatus() == null ? null : p.getStatus().getPhase()))
                  .collect(Collectors.joining("\n")),
          e);
    }
  }

  private InferenceJob awaitJobOrThrow(String name, boolean runPods, Predicate<InferenceJob> done) {
    return await()
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              if (runPods) {
                runPending(name);
              }
              return get(name);
            },
            j -> j != null && j.getStatus() != null && done.test(j));
  }

  private void runPending(String job) {
    for (Pod p : live(job)) {
      if (p.getStatus() == null || !"Running".equals(p.getStatus().getPhase())) {
        kubelet().run(p);
      }
    }
  }

  private List<Pod> live(String job) {
    return kubelet().pods(NS, job).stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .collect(Collectors.toList());
  }

  private static Map<String, String> env(Pod pod) {
    Map<String, String> env = new HashMap<>();
    for (EnvVar e : pod.getSpec().getContainers().get(0).getEnv()) {
      env.put(e.getName(), e.getValue());
    }
    return env;
  }

  private static Condition condition(InferenceJob job, String type) {
    return job.getStatus().conditions.stream()
        .filter(c -> type.equals(c.getType()))
        .findFirst()
        .orElse(null);
  }

  private List<String> eventReasons(String job) {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> job.equals(e.getInvolvedObject().getName()))
        .map(Event::getReason)
        .collect(Collectors.toList());
  }

  @Test
  void shardsA70bModelAcross24GibCardsAndRecreatesTheGroupWhenAShardFails() {
    String region = "inf-shard";
    node("inf-shard-a", "prov-inf-shard-a", RTX4090, 4, 24564, region);
    node("inf-shard-b", "prov-inf-shard-b", RTX4090, 4, 24564, region);
    client.resource(job("llama70", region, "70B", 80, 1, 1)).create();

    InferenceJob deploying =
        awaitJob(
            "llama70",
            false,
            j -> j.getStatus().replicas != null && !j.getStatus().replicas.isEmpty());
    List<Pod> pods = live("llama70");
    assertThat(pods).hasSize(2);
    assertThat(pods)
        .extracting(p -> p.getSpec().getNodeName())
        .containsExactlyInAnyOrder("inf-shard-a", "inf-shard-b");
    int covered = 0;
    Set<String> workerIndices = new java.util.HashSet<>();
    for (Pod p : pods) {
      Map<String, String> env = env(p);
      assertThat(env)
          .containsEntry("LWS_GROUP_SIZE", "2")
          .containsEntry("PIPELINE_PARALLEL_SIZE", "2")
          .containsEntry("TENSOR_PARALLEL_SIZE", "4")
          .containsEntry("GPUPOOL_REPLICA_INDEX", "0")
          .containsEntry("LWS_LEADER_ADDRESS", "llama70-r0-0.llama70-r0.default.svc");
      workerIndices.add(env.get("LWS_WORKER_INDEX"));
      covered +=
          Integer.parseInt(env.get("GPUPOOL_LAST_LAYER"))
              - Integer.parseInt(env.get("GPUPOOL_FIRST_LAYER"))
              + 1;
      assertThat(p.getSpec().getContainers().get(0).getResources().getLimits())
          .containsEntry("nvidia.com/gpu", new Quantity("4"));
      assertThat(p.getMetadata().getLabels())
          .containsEntry("gpupool.io/job-kind", "InferenceJob")
          .containsEntry("gpupool.io/replica", "0");
      assertThat(p.getMetadata().getOwnerReferences()).hasSize(1);
      assertThat(p.getSpec().getTolerations()).anyMatch(t -> "nvidia.com/gpu".equals(t.getKey()));
    }
    assertThat(workerIndices).containsExactlyInAnyOrder("0", "1");
    assertThat(covered).isEqualTo(80);
    assertThat(deploying.getStatus().totalGpus).isEqualTo(8);
    assertThat(
            client.services().inNamespace(NS).withName("llama70-r0").get().getSpec().getClusterIP())
        .isEqualTo("None");

    InferenceJob serving =
        awaitJob("llama70", true, j -> j.getStatus().phase == InferenceJobPhase.Serving);
    assertThat(serving.getStatus().readyReplicas).isEqualTo(1);
    assertThat(serving.getStatus().endpoint).isEqualTo("http://llama70.default.svc:8000");
    assertThat(serving.getStatus().replicas.get(0).pipelineParallelSize).isEqualTo(2);
    assertThat(serving.getStatus().replicas.get(0).tensorParallelSize).isEqualTo(4);
    Service svc = client.services().inNamespace(NS).withName("llama70").get();
    assertThat(svc.getSpec().getSelector())
        .containsEntry("gpupool.io/role", "leader")
        .containsEntry("gpupool.io/draining", "false");

    // A worker shard dies: the whole group is recreated (LeaderWorkerSet semantics).
    Pod worker =
        live("llama70").stream()
            .filter(p -> "1".equals(p.getMetadata().getLabels().get("gpupool.io/shard")))
            .findFirst()
            .orElseThrow();
    Set<String> before =
        live("llama70").stream().map(p -> p.getMetadata().getName()).collect(Collectors.toSet());
    kubelet().fail(worker, 137);
    await()
        .atMost(TIMEOUT)
        .until(
            () -> live("llama70"),
            now ->
                now.size() == 2
                    && now.stream().noneMatch(p -> before.contains(p.getMetadata().getName())));
    awaitJob("llama70", true, j -> j.getStatus().phase == InferenceJobPhase.Serving);
    assertThat(eventReasons("llama70")).contains("ReplicaFailed", "Scheduled");
  }

  @Test
  void packsSmallModelReplicasOntoTimeSlicedGpus() {
    String region = "inf-share";
    provider("prov-inf-share");
    Node node = TestNodes.gpuNode("inf-share-ts", "prov-inf-share", RTX4090, 2, 24564, region);
    node.getMetadata().getLabels().put("nvidia.com/gpu.replicas", "4");
    node.getMetadata().getLabels().put("nvidia.com/gpu.sharing-strategy", "time-slicing");
    node.getMetadata().getLabels().put("nvidia.com/gpu.product", RTX4090 + "-SHARED");
    Map<String, Quantity> alloc = new HashMap<>(node.getStatus().getAllocatable());
    alloc.put("nvidia.com/gpu", new Quantity("8"));
    node.getStatus().setAllocatable(alloc);
    client.resource(node).create();
    client.resource(job("phi3b", region, "3B", 26, 3, 3)).create();

    InferenceJob serving =
        awaitJob(
            "phi3b",
            true,
            j ->
                j.getStatus().phase == InferenceJobPhase.Serving
                    && j.getStatus().readyReplicas == 3);
    List<Pod> pods = live("phi3b");
    assertThat(pods).hasSize(3);
    for (Pod p : pods) {
      assertThat(p.getSpec().getNodeName()).isEqualTo("inf-share-ts");
      // 3B in bf16 needs ~6 GiB: two of the four 6 GiB time slices of a 24 GiB card.
      assertThat(p.getSpec().getContainers().get(0).getResources().getLimits())
          .containsEntry("nvidia.com/gpu", new Quantity("2"));
      assertThat(env(p))
          .containsEntry("GPUPOOL_GPU_SHARE_MILLI", "500")
          .containsEntry("LWS_GROUP_SIZE", "1")
          .containsEntry("TENSOR_PARALLEL_SIZE", "1");
    }
    assertThat(serving.getStatus().replicas)
        .allSatisfy(r -> assertThat(r.shards.get(0).gpuMilli).isEqualTo(500));
    assertThat(serving.getStatus().totalGpus).isEqualTo(2);
  }

  @Test
  void scalesOneToFourAndBackOnLoadAndExportsItsDecisions() throws Exception {
    String region = "inf-scale";
    for (int i = 0; i < 4; i++) {
      node("inf-scale-" + i, "prov-inf-scale-" + i, A100, 1, 81920, region);
    }
    InferenceJob job = job("chat", region, "1B", 16, 1, 4);
    job.getSpec().autoscaling = new Autoscaling();
    job.getSpec().autoscaling.targetInFlightRequests = 8;
    job.getSpec().autoscaling.scaleDownStabilizationSeconds = 1;
    client.resource(job).create();
    awaitJob(
        "chat",
        true,
        j -> j.getStatus().phase == InferenceJobPhase.Serving && j.getStatus().readyReplicas == 1);

    TestLoadSignal.set("chat", 40.0);
    InferenceJob four =
        awaitJob(
            "chat",
            true,
            j -> j.getStatus().readyReplicas == 4 && j.getStatus().desiredReplicas == 4);
    assertThat(live("chat"))
        .extracting(p -> p.getMetadata().getLabels().get("gpupool.io/provider"))
        .doesNotHaveDuplicates()
        .hasSize(4);
    // The condition tells the latest decision: once four replicas serve at the maximum, a later
    // load
    // poll may already have written Steady. That the scale-up happened once is proven by the
    // counter
    // below and by the ScaledUp event checked at the end.
    assertThat(condition(four, "Scaling").getReason()).isIn("ScaledUp", "Steady");
    String[] chat = {"namespace", NS, "job", "chat"};
    assertThat(scraped("gpupool_inference_replicas_desired", chat)).hasValue(4.0);
    await()
        .atMost(TIMEOUT)
        .untilAsserted(
            () -> assertThat(scraped("gpupool_inference_replicas_ready", chat)).hasValue(4.0));
    // Every leader reports 40 (the test signal): whatever the replica count, 40 per replica.
    assertThat(scraped("gpupool_inference_inflight_requests_per_replica", chat)).hasValue(40.0);
    assertThat(scraped("gpupool_inference_inflight_requests_target", chat)).hasValue(8.0);
    await()
        .atMost(TIMEOUT)
        .untilAsserted(
            () ->
                assertThat(scraped("gpupool_inference_inflight_requests", chat).orElse(-1))
                    .isIn(40.0, 80.0, 120.0, 160.0));
    assertThat(
            scraped(
                "gpupool_inference_scale_events_total",
                "namespace",
                NS,
                "job",
                "chat",
                "direction",
                "up"))
        .hasValue(1.0);
    assertThat(
            scraped(
                "gpupool_inference_scale_events_total",
                "namespace",
                NS,
                "job",
                "chat",
                "direction",
                "down"))
        .as("exported at 0 from the first reconcile, not scaled down yet")
        .hasValue(0.0);

    TestLoadSignal.set("chat", 0.0);
    InferenceJob one =
        awaitJob(
            "chat",
            true,
            j ->
                j.getStatus().desiredReplicas == 1
                    && j.getStatus().readyReplicas == 1
                    && j.getStatus().replicas.size() == 1);
    assertThat(condition(one, "Scaling").getReason()).isIn("ScaledDown", "Steady");
    assertThat(scraped("gpupool_inference_replicas_desired", chat)).hasValue(1.0);
    assertThat(
            scraped(
                    "gpupool_inference_scale_events_total",
                    "namespace",
                    NS,
                    "job",
                    "chat",
                    "direction",
                    "down")
                .orElseThrow())
        .isGreaterThanOrEqualTo(1.0);
    assertThat(scraped("gpupool_inference_inflight_requests_per_replica", chat)).hasValue(0.0);
    await().atMost(TIMEOUT).until(() -> live("chat").size() == 1);
    // The headless Services of the removed replicas go with them.
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                client
                    .services()
                    .inNamespace(NS)
                    .withLabel("gpupool.io/job-name", "chat")
                    .withLabel("gpupool.io/replica")
                    .list()
                    .getItems()
                    .size(),
            n -> n == 1);
    assertThat(eventReasons("chat")).contains("ScaledUp", "ScaledDown", "Draining", "Drained");
    TestLoadSignal.set("chat", null);
  }

  @Test
  void replacesAReplicaWhoseNodeIsLost() {
    String region = "inf-lost";
    node("inf-lost-a", "prov-inf-lost-a", A100, 1, 81920, region);
    node("inf-lost-b", "prov-inf-lost-b", A100, 1, 81920, region);
    client.resource(job("survivor", region, "7B", 32, 1, 1)).create();
    awaitJob("survivor", true, j -> j.getStatus().phase == InferenceJobPhase.Serving);
    String victim = live("survivor").get(0).getSpec().getNodeName();

    client.nodes().withName(victim).delete();
    InferenceJob moved =
        awaitJob(
            "survivor",
            true,
            j ->
                j.getStatus().phase == InferenceJobPhase.Serving
                    && j.getStatus().replicas.get(0).shards.stream()
                        .noneMatch(s -> victim.equals(s.node)));
    assertThat(moved.getStatus().readyReplicas).isEqualTo(1);
    assertThat(live("survivor")).allMatch(p -> !victim.equals(p.getSpec().getNodeName()));
    assertThat(eventReasons("survivor")).contains("NodeLost");
  }

  @Test
  void movesAReplicaOffANodeNotReadyPastTheGracePeriod() {
    String region = "inf-flaky";
    node("inf-flaky-a", "prov-inf-flaky-a", A100, 1, 81920, region);
    node("inf-flaky-b", "prov-inf-flaky-b", A100, 1, 81920, region);
    client.resource(job("flaky", region, "7B", 32, 1, 1)).create();
    awaitJob("flaky", true, j -> j.getStatus().phase == InferenceJobPhase.Serving);
    String victim = live("flaky").get(0).getSpec().getNodeName();

    client
        .nodes()
        .withName(victim)
        .editStatus(
            n -> {
              n.getStatus().getConditions().get(0).setStatus("False");
              n.getStatus()
                  .getConditions()
                  .get(0)
                  .setLastTransitionTime(java.time.Instant.now().toString());
              return n;
            });
    // The test profile's grace period is 2 s: the group moves once it has passed.
    InferenceJob moved =
        awaitJob(
            "flaky",
            true,
            j ->
                j.getStatus().phase == InferenceJobPhase.Serving
                    && j.getStatus().replicas.get(0).shards.stream()
                        .noneMatch(sh -> victim.equals(sh.node)));
    assertThat(moved.getStatus().readyReplicas).isEqualTo(1);
    assertThat(eventReasons("flaky")).contains("NodeLost");
  }

  /**
   * Job {@code name} of a 1B model serving {@code replicas} ready replicas on {@code nodes}
   * one-A100 nodes of region {@code region}, each its own provider.
   */
  private void servingOnA100s(String name, String region, int nodes, int replicas) {
    for (int i = 0; i < nodes; i++) {
      node(region + "-" + i, "prov-" + region + "-" + i, A100, 1, 81920, region);
    }
    client.resource(job(name, region, "1B", 16, replicas, replicas)).create();
    awaitJob(
        name,
        true,
        j ->
            j.getStatus().phase == InferenceJobPhase.Serving
                && j.getStatus().readyReplicas == replicas);
  }

  @Test
  void rollsASpecChangeOutReplicaByReplica() {
    servingOnA100s("rolling", "inf-roll", 3, 2);

    InferenceJob current = get("rolling");
    current.getSpec().image = "ghcr.io/example/serve:2";
    client.resource(current).update();
    awaitJob(
        "rolling",
        true,
        j -> {
          List<Pod> pods = live("rolling");
          return j.getStatus().readyReplicas == 2
              && pods.size() == 2
              && pods.stream()
                  .allMatch(
                      p ->
                          "ghcr.io/example/serve:2"
                              .equals(p.getSpec().getContainers().get(0).getImage()));
        });
    assertThat(eventReasons("rolling")).contains("RollingUpdate");
  }

  @Test
  void aPortChangeMovesTheServiceWithTheRolledOutPods() {
    servingOnA100s("ported", "inf-port", 2, 1);
    assertThat(client.services().inNamespace(NS).withName("ported").get().getSpec().getPorts())
        .singleElement()
        .satisfies(p -> assertThat(p.getPort()).isEqualTo(8000));

    InferenceJob current = get("ported");
    current.getSpec().port = 9000;
    client.resource(current).update();
    awaitJob(
        "ported",
        true,
        j ->
            j.getStatus().readyReplicas == 1
                && live("ported").stream()
                    .allMatch(p -> "9000".equals(env(p).get("GPUPOOL_PORT"))));
    // The Service forwards to the port the pods now listen on, not the one they were created with.
    await()
        .atMost(TIMEOUT)
        .untilAsserted(
            () ->
                assertThat(
                        client
                            .services()
                            .inNamespace(NS)
                            .withName("ported")
                            .get()
                            .getSpec()
                            .getPorts())
                    .singleElement()
                    .satisfies(
                        p -> {
                          assertThat(p.getPort()).isEqualTo(9000);
                          assertThat(p.getTargetPort().getIntVal()).isEqualTo(9000);
                        }));
    assertThat(get("ported").getStatus().endpoint).isEqualTo("http://ported.default.svc:9000");
  }

  @Test
  void updatesInPlaceWhenThereIsNoRoomToSurgeKeepingTheMinimum() {
    String region = "inf-inplace";
    node("inf-inplace-a", "prov-inf-inplace-a", A100, 1, 81920, region);
    node("inf-inplace-b", "prov-inf-inplace-b", A100, 1, 81920, region);
    InferenceJob job = job("inplace", region, "1B", 16, 1, 2);
    job.getSpec().autoscaling = new Autoscaling();
    job.getSpec().autoscaling.targetInFlightRequests = 8;
    // Load that keeps two replicas busy (scale-up wanted, capped at max = 2).
    TestLoadSignal.set("inplace", 12.0);
    client.resource(job).create();
    awaitJob("inplace", true, j -> j.getStatus().readyReplicas == 2);

    InferenceJob current = get("inplace");
    current.getSpec().image = "ghcr.io/example/serve:2";
    client.resource(current).update();
    awaitJob(
        "inplace",
        true,
        j -> {
          // Never below the minimum of one ready replica while updating.
          assertThat(j.getStatus().readyReplicas).isGreaterThanOrEqualTo(1);
          List<Pod> pods = live("inplace");
          return j.getStatus().readyReplicas == 2
              && pods.size() == 2
              && pods.stream()
                  .allMatch(
                      p ->
                          "ghcr.io/example/serve:2"
                              .equals(p.getSpec().getContainers().get(0).getImage()));
        });
    assertThat(eventReasons("inplace")).contains("RollingUpdate", "Draining");
    TestLoadSignal.set("inplace", null);
  }

  @Test
  void suspendRemovesThePodsAndResumePlacesThemAgain() {
    String region = "inf-suspend";
    node("inf-suspend-a", "prov-inf-suspend-a", A100, 1, 81920, region);
    client.resource(job("pause", region, "1B", 16, 1, 1)).create();
    awaitJob("pause", true, j -> j.getStatus().phase == InferenceJobPhase.Serving);

    InferenceJob current = get("pause");
    current.getSpec().suspend = true;
    client.resource(current).update();
    InferenceJob suspended =
        awaitJob("pause", false, j -> j.getStatus().phase == InferenceJobPhase.Suspended);
    assertThat(suspended.getStatus().readyReplicas).isZero();
    await().atMost(TIMEOUT).until(() -> live("pause").isEmpty());

    current = get("pause");
    current.getSpec().suspend = false;
    client.resource(current).update();
    awaitJob("pause", true, j -> j.getStatus().phase == InferenceJobPhase.Serving);
    assertThat(live("pause")).hasSize(1);
  }

  @Test
  void staysPendingWithTheSchedulersReason() {
    String region = "inf-small";
    node("inf-small-a", "prov-inf-small-a", RTX4090, 1, 24564, region);
    InferenceJob job = job("toolarge", region, "70B", 80, 1, 1);
    job.getSpec().sharding = Sharding.None;
    client.resource(job).create();
    InferenceJob pending =
        awaitJob(
            "toolarge",
            false,
            j ->
                condition(j, "Scheduled") != null
                    && "Unschedulable".equals(condition(j, "Scheduled").getReason()));
    assertThat(pending.getStatus().phase).isEqualTo(InferenceJobPhase.Pending);
    assertThat(condition(pending, "Scheduled").getMessage()).contains("GiB");
    assertThat(live("toolarge")).isEmpty();
    assertThat(eventReasons("toolarge")).contains("Unschedulable");
  }
}
