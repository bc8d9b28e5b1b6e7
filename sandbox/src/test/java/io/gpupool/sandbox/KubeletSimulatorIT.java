package io.gpupool.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.sandbox.kubelet.KubeletSimulator;
import io.gpupool.sandbox.pool.NodeFactory;
import io.gpupool.sandbox.pool.PoolFile;
import io.gpupool.sandbox.pool.PoolSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Pod lifecycles and node faults through the Fabric8 client (websocket informers). */
class KubeletSimulatorIT {

  private static final Duration WAIT = Duration.ofSeconds(20);

  /** 50 sandbox seconds per wall second: a 50 s pod runs for 1 s. */
  private static final double TIME_SCALE = 50;

  private static Sandbox sandbox;
  private static KubernetesClient client;

  @BeforeAll
  static void start() {
    PoolSpec pool =
        PoolFile.parse(
            """
            providers:
              - name: p1
                payoutAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
                prices: {NVIDIA-GeForce-RTX-4090: "0.40"}
            nodeGroups:
              - namePrefix: solo
                count: 8
                provider: p1
                region: eu-west
                zone: eu-west-1a
                gpu: {product: NVIDIA-GeForce-RTX-4090, count: 1, memoryMiB: 24564,
                      family: ada-lovelace, computeMajor: 8, computeMinor: 9}
              - namePrefix: shared
                count: 1
                provider: p1
                region: eu-west
                zone: eu-west-1b
                gpu: {product: NVIDIA-GeForce-RTX-3090, count: 1, memoryMiB: 24576,
                      family: ampere, computeMajor: 8, computeMinor: 6,
                      sharing: {strategy: time-slicing, replicas: 2}}
            """);
    sandbox =
        Sandbox.builder()
            .pool(pool)
            .timeScale(TIME_SCALE)
            .evictionTimeout(Duration.ofSeconds(100))
            .start();
    client = sandbox.client();
  }

  @AfterAll
  static void stop() {
    if (sandbox != null) {
      sandbox.close();
    }
  }

  private static Pod pod(
      String name, String node, int gpus, Map<String, String> env, String restart) {
    return client.resource(GpuPods.pod(name, node, gpus, env, restart)).create();
  }

  private static Pod await(String name, Predicate<Pod> condition, String what) {
    return eventually(
        () -> client.pods().inNamespace("default").withName(name).get(),
        p -> p != null && condition.test(p),
        "pod " + name + " " + what);
  }

  private static <T> T eventually(Supplier<T> get, Predicate<T> ok, String what) {
    return Eventually.eventually(WAIT, get, ok, what);
  }

  /** Reasons of the events about a pod, selected by field like kubectl describe does. */
  private static List<String> eventReasons(String pod) {
    return eventually(
        () ->
            client
                .v1()
                .events()
                .inNamespace("default")
                .withField("involvedObject.name", pod)
                .list()
                .getItems()
                .stream()
                .map(e -> e.getReason())
                .toList(),
        l -> !l.isEmpty(),
        "events of pod " + pod);
  }

  private static boolean phase(Pod p, String phase) {
    return p.getStatus() != null && phase.equals(p.getStatus().getPhase());
  }

  private static String condition(Pod p, String type) {
    return p.getStatus().getConditions().stream()
        .filter(c -> type.equals(c.getType()))
        .map(c -> c.getStatus())
        .findFirst()
        .orElse(null);
  }

  @Test
  void podRunsThenSucceeds() {
    pod("ok", "solo-1", 1, Map.of(KubeletSimulator.RUN_SECONDS_ENV, "60"), "Never");
    Pod running = await("ok", p -> phase(p, "Running"), "Running");
    assertThat(running.getStatus().getPodIP()).startsWith("10.244.");
    assertThat(running.getStatus().getHostIP()).startsWith("10.20.");
    assertThat(running.getStatus().getStartTime()).isNotNull();
    assertThat(condition(running, "Ready")).isEqualTo("True");
    assertThat(condition(running, "ContainersReady")).isEqualTo("True");
    assertThat(running.getStatus().getContainerStatuses())
        .singleElement()
        .satisfies(
            cs -> {
              assertThat(cs.getReady()).isTrue();
              assertThat(cs.getState().getRunning().getStartedAt()).isNotNull();
            });
    assertThat(sandbox.kubelet().gpusInUse("solo-1")).isEqualTo(1);
    assertThat(eventReasons("ok")).contains("Pulled", "Created", "Started");
    assertThat(running.getSpec().getContainers().get(0).getResources().getRequests())
        .as("requests defaulted from limits")
        .containsEntry("nvidia.com/gpu", new Quantity("1"));

    Pod done = await("ok", p -> phase(p, "Succeeded"), "Succeeded");
    var terminated = done.getStatus().getContainerStatuses().get(0).getState().getTerminated();
    assertThat(terminated.getExitCode()).isZero();
    assertThat(terminated.getReason()).isEqualTo("Completed");
    assertThat(terminated.getStartedAt()).isNotNull();
    assertThat(Instant.parse(terminated.getFinishedAt()))
        .isAfterOrEqualTo(Instant.parse(terminated.getStartedAt()));
    assertThat(condition(done, "Ready")).isEqualTo("False");
    assertThat(sandbox.kubelet().gpusInUse("solo-1")).isZero();
  }

  @Test
  void podFailsWithItsExitCode() {
    pod(
        "crash",
        "solo-2",
        1,
        Map.of(KubeletSimulator.RUN_SECONDS_ENV, "25", KubeletSimulator.EXIT_CODE_ENV, "42"),
        "Never");
    Pod failed = await("crash", p -> phase(p, "Failed"), "Failed");
    var terminated = failed.getStatus().getContainerStatuses().get(0).getState().getTerminated();
    assertThat(terminated.getExitCode()).isEqualTo(42);
    assertThat(terminated.getReason()).isEqualTo("Error");
  }

  @Test
  void onFailureRestartsTheContainer() {
    pod(
        "flaky",
        "solo-3",
        0,
        Map.of(KubeletSimulator.RUN_SECONDS_ENV, "10", KubeletSimulator.EXIT_CODE_ENV, "1"),
        "OnFailure");
    Pod restarted =
        await(
            "flaky",
            p ->
                phase(p, "Running")
                    && p.getStatus().getContainerStatuses().get(0).getRestartCount() >= 2,
            "restarted twice");
    assertThat(restarted.getStatus().getPhase()).isEqualTo("Running");
    client.pods().inNamespace("default").withName("flaky").delete();
  }

  @Test
  void aNodeNeverRunsMoreGpusThanItHas() {
    pod("first", "solo-4", 1, Map.of(), "Never");
    await("first", p -> phase(p, "Running"), "Running");
    pod("second", "solo-4", 1, Map.of(), "Never");
    Pod rejected = await("second", p -> phase(p, "Failed"), "rejected");
    assertThat(rejected.getStatus().getReason()).isEqualTo("UnexpectedAdmissionError");
    assertThat(rejected.getStatus().getMessage())
        .contains(
            "Allocate failed due to requested number of devices unavailable for nvidia.com/gpu")
        .contains("Requested: 1, Available: 0");
    assertThat(eventReasons("second")).contains("UnexpectedAdmissionError");

    client.pods().inNamespace("default").withName("first").delete();
    eventually(() -> sandbox.kubelet().gpusInUse("solo-4"), n -> n == 0, "GPU released");
    pod("third", "solo-4", 1, Map.of(), "Never");
    await("third", p -> phase(p, "Running"), "Running after the GPU was freed");
    client.pods().inNamespace("default").withName("third").delete();
  }

  @Test
  void timeSlicedGpusAdmitOnePodPerReplica() {
    pod("slice-a", "shared-1", 1, Map.of(), "Never");
    pod("slice-b", "shared-1", 1, Map.of(), "Never");
    await("slice-a", p -> phase(p, "Running"), "Running");
    await("slice-b", p -> phase(p, "Running"), "Running");
    pod("slice-c", "shared-1", 1, Map.of(), "Never");
    assertThat(await("slice-c", p -> phase(p, "Failed"), "rejected").getStatus().getReason())
        .isEqualTo("UnexpectedAdmissionError");
    client.pods().inNamespace("default").withName("slice-a").delete();
    client.pods().inNamespace("default").withName("slice-b").delete();
  }

  @Test
  void notReadyNodeMakesPodsUnreadyThenEvictsThem() {
    pod("stranded", "solo-5", 1, Map.of(), "Never");
    await("stranded", p -> phase(p, "Running"), "Running");

    sandbox.kubelet().nodeNotReady("solo-5");
    Node node = client.nodes().withName("solo-5").get();
    assertThat(node.getStatus().getConditions())
        .anySatisfy(
            c -> {
              assertThat(c.getType()).isEqualTo("Ready");
              assertThat(c.getStatus()).isEqualTo("Unknown");
            });
    assertThat(node.getSpec().getTaints())
        .anySatisfy(t -> assertThat(t.getKey()).isEqualTo(KubeletSimulator.UNREACHABLE_TAINT));
    await("stranded", p -> "False".equals(condition(p, "Ready")), "not ready");

    // eviction after 100 sandbox seconds = 2 s
    eventually(
        () -> client.pods().inNamespace("default").withName("stranded").get(),
        p -> p == null,
        "pod evicted from the NotReady node");

    sandbox.kubelet().nodeReady("solo-5");
    Node back = client.nodes().withName("solo-5").get();
    assertThat(back.getSpec().getTaints())
        .noneSatisfy(t -> assertThat(t.getKey()).isEqualTo(KubeletSimulator.UNREACHABLE_TAINT));
    pod("after", "solo-5", 1, Map.of(), "Never");
    await("after", p -> phase(p, "Running"), "Running on the recovered node");
    client.pods().inNamespace("default").withName("after").delete();
  }

  @Test
  void podsOfARemovedNodeAreDeleted() {
    pod("orphan", "solo-6", 1, Map.of(), "Never");
    await("orphan", p -> phase(p, "Running"), "Running");
    eventually(
        () -> client.leases().inNamespace("kube-node-lease").withName("solo-6").get(),
        l -> l != null && "solo-6".equals(l.getSpec().getHolderIdentity()),
        "the node's heartbeat lease");
    sandbox.kubelet().removeNode("solo-6");
    assertThat(client.nodes().withName("solo-6").get()).isNull();
    assertThat(client.leases().inNamespace("kube-node-lease").withName("solo-6").get())
        .as("lease garbage-collected with its node")
        .isNull();
    eventually(
        () -> client.pods().inNamespace("default").withName("orphan").get(),
        p -> p == null,
        "pod deleted with its node");

    // and a node can join again
    PoolSpec.NodeGroup group =
        PoolFile.parse(
                """
            providers:
              - {name: p1, payoutAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                 prices: {X: "1"}}
            nodeGroups:
              - namePrefix: late
                count: 1
                provider: p1
                region: eu-west
                zone: eu-west-1a
                gpu: {product: NVIDIA-H100-80GB-HBM3, count: 8, memoryMiB: 81559,
                      family: hopper, computeMajor: 9, computeMinor: 0}
            """)
            .nodeGroups()
            .get(0);
    sandbox.kubelet().addNode(NodeFactory.node("late-1", group, 99, Instant.now()));
    pod("big", "late-1", 8, Map.of(), "Never");
    await("big", p -> phase(p, "Running"), "Running on the new node");
    client.pods().inNamespace("default").withName("big").delete();
  }

  @Test
  void faultLabelSetWithKubectlStyleLabelling() {
    client
        .nodes()
        .withName("solo-7")
        .edit(
            n -> {
              n.getMetadata().getLabels().put(KubeletSimulator.FAULT_LABEL, "NotReady");
              return n;
            });
    eventually(
        () -> client.nodes().withName("solo-7").get(),
        n ->
            n.getStatus().getConditions().stream()
                .anyMatch(c -> c.getType().equals("Ready") && !c.getStatus().equals("True")),
        "node NotReady through the fault label");
    client
        .nodes()
        .withName("solo-7")
        .edit(
            n -> {
              n.getMetadata().getLabels().put(KubeletSimulator.FAULT_LABEL, "Ready");
              return n;
            });
    eventually(
        () -> client.nodes().withName("solo-7").get(),
        n ->
            n.getStatus().getConditions().stream()
                .anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True")),
        "node Ready again");
  }

  @Test
  void podsWithoutANodeStayPending() throws InterruptedException {
    client
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName("unbound")
                .withNamespace("default")
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("c")
                .withImage("x")
                .endContainer()
                .endSpec()
                .build())
        .create();
    Thread.sleep(500);
    sandbox.kubelet().sync();
    assertThat(
            client.pods().inNamespace("default").withName("unbound").get().getStatus().getPhase())
        .isEqualTo("Pending");
    client.pods().inNamespace("default").withName("unbound").delete();
  }

  @Test
  void thePoolIsVisibleAsNodes() {
    List<Node> nodes = client.nodes().withLabel("gpupool.io/provider", "p1").list().getItems();
    assertThat(nodes).extracting(n -> n.getMetadata().getName()).contains("solo-8", "shared-1");
    assertThat(
            client
                .nodes()
                .withName("shared-1")
                .get()
                .getStatus()
                .getAllocatable()
                .get("nvidia.com/gpu"))
        .isEqualTo(new Quantity("2"));
  }
}
