package io.gpupool.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.sandbox.kubelet.ProcessMode;
import io.gpupool.sandbox.pool.PoolFile;
import io.gpupool.sandbox.pool.PoolSpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Process mode of the sandbox kubelet: real processes behind pods, with their output, exit codes,
 * addresses and deaths seen through the Kubernetes API. Uses /bin/sh, so it needs no torch.
 */
class ProcessModeIT {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir static Path data;
  private static Sandbox sandbox;
  private static KubernetesClient client;

  @BeforeAll
  static void start() throws Exception {
    Path workloads = Files.createDirectories(data.resolve("workloads"));
    Files.writeString(workloads.resolve("hello.sh"), "echo \"hello from $HOSTNAME at $POD_IP\"\n");
    PoolSpec pool =
        PoolFile.parse(
            """
            providers:
              - name: p1
                payoutAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
                prices: {NVIDIA-GeForce-RTX-4090: "0.40"}
            nodeGroups:
              - namePrefix: box
                count: 9
                provider: p1
                region: eu-west
                zone: eu-west-1a
                gpu: {product: NVIDIA-GeForce-RTX-4090, count: 1, memoryMiB: 24564,
                      family: ada-lovelace, computeMajor: 8, computeMinor: 9}
            """);
    sandbox =
        Sandbox.builder()
            .pool(pool)
            .processMode(ProcessMode.debian(workloads, data.resolve("state")))
            .log(line -> System.out.println("[sandbox] " + line))
            .start();
    client = sandbox.client();
  }

  @AfterAll
  static void stop() throws Exception {
    if (sandbox != null) {
      sandbox.close();
    }
  }

  private static Pod pod(
      String name, String node, String image, Map<String, String> env, String... command) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace("default")
            .endMetadata()
            .withNewSpec()
            .withNodeName(node)
            .withHostname(name)
            .withSubdomain("gang")
            .withRestartPolicy("Never")
            .addNewContainer()
            .withName("worker")
            .withImage(image)
            .withCommand(command)
            .withNewResources()
            .addToLimits("nvidia.com/gpu", new Quantity("1"))
            .endResources()
            .endContainer()
            .endSpec();
    env.forEach(
        (k, v) ->
            b.editSpec()
                .editContainer(0)
                .addNewEnv()
                .withName(k)
                .withValue(v)
                .endEnv()
                .endContainer()
                .endSpec());
    return client.resource(b.build()).create();
  }

  /** Polls {@code condition} every 100 ms for {@code atMost}. */
  private static void until(java.util.concurrent.Callable<Boolean> condition) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!Boolean.TRUE.equals(condition.call())) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + WAIT);
      }
      Thread.sleep(100);
    }
  }

  private static Pod get(String name) {
    return client.pods().inNamespace("default").withName(name).get();
  }

  private static String phase(String name) {
    Pod p = get(name);
    return p == null || p.getStatus() == null ? null : p.getStatus().getPhase();
  }

  @Test
  void theContainerRunsAsAProcessAndItsExitCodeAndOutputAreThePods() throws Exception {
    pod("ok", "box-1", "ghcr.io/gpupool/workloads:0.1", Map.of(), "/bin/sh", "/workloads/hello.sh");
    pod("bad", "box-2", "busybox", Map.of(), "/bin/sh", "-c", "echo failing; exit 3");
    until(() -> "Succeeded".equals(phase("ok")));
    assertThat(client.pods().inNamespace("default").withName("ok").getLog())
        .startsWith("hello from ok at 127.78.");
    assertThat(get("ok").getStatus().getPodIP()).startsWith("127.78.");
    assertThat(
            get("ok")
                .getStatus()
                .getContainerStatuses()
                .get(0)
                .getState()
                .getTerminated()
                .getExitCode())
        .isZero();
    // busybox without the annotation stays simulated: it runs "forever", no output
    until(() -> "Running".equals(phase("bad")));
    assertThat(client.pods().inNamespace("default").withName("bad").getLog())
        .contains("simulated container");
    client.pods().inNamespace("default").withName("bad").delete();
  }

  @Test
  void anOptedInPodFailsWithItsExitCode() throws Exception {
    Pod p =
        new PodBuilder()
            .withNewMetadata()
            .withName("exits-3")
            .withNamespace("default")
            .addToAnnotations(ProcessMode.ANNOTATION, "true")
            .endMetadata()
            .withNewSpec()
            .withNodeName("box-3")
            .withRestartPolicy("Never")
            .addNewContainer()
            .withName("main")
            .withImage("busybox")
            .withCommand("/bin/sh", "-c", "echo failing; exit 3")
            .endContainer()
            .endSpec()
            .build();
    client.resource(p).create();
    until(() -> "Failed".equals(phase("exits-3")));
    var terminated =
        get("exits-3").getStatus().getContainerStatuses().get(0).getState().getTerminated();
    assertThat(terminated.getExitCode()).isEqualTo(3);
    assertThat(terminated.getReason()).isEqualTo("Error");
    assertThat(client.pods().inNamespace("default").withName("exits-3").getLog())
        .isEqualTo("failing\n");
  }

  @Test
  void namesResolveToPodAddressesAndBucketsToASharedFolder() throws Exception {
    Map<String, String> env =
        Map.of(
            "MASTER_ADDR", "leader.gang.default.svc",
            "MASTER_PORT", "29500",
            "GPUPOOL_CHECKPOINT_URI", "s3://ckpt/job-a",
            "PET_RDZV_ENDPOINT", "leader.gang.default.svc.cluster.local:29500",
            "PET_RDZV_BACKEND", "c10d");
    String script =
        "echo addr=$MASTER_ADDR port=$MASTER_PORT ckpt=$GPUPOOL_CHECKPOINT_URI"
            + " rdzv=$PET_RDZV_ENDPOINT conf=$PET_RDZV_CONF gpus=$NVIDIA_VISIBLE_DEVICES;"
            + " echo from-$HOSTNAME > ${GPUPOOL_CHECKPOINT_URI#file://}/$HOSTNAME 2>/dev/null"
            + " || (mkdir -p ${GPUPOOL_CHECKPOINT_URI#file://}"
            + " && echo from-$HOSTNAME > ${GPUPOOL_CHECKPOINT_URI#file://}/$HOSTNAME)";
    pod("follower", "box-4", "ghcr.io/gpupool/workloads:0.1", env, "/bin/sh", "-c", script);
    pod("leader", "box-5", "ghcr.io/gpupool/workloads:0.1", env, "/bin/sh", "-c", script);
    until(() -> "Succeeded".equals(phase("leader")) && "Succeeded".equals(phase("follower")));
    String leaderIp = get("leader").getStatus().getPodIP();
    String follower = client.pods().inNamespace("default").withName("follower").getLog();
    String leader = client.pods().inNamespace("default").withName("leader").getLog();
    assertThat(follower).contains("addr=" + leaderIp + " ").contains("conf=is_host=0");
    assertThat(leader).contains("addr=" + leaderIp + " ").contains("conf=is_host=1");
    String port = follower.replaceAll("(?s).*port=(\\d+).*", "$1");
    assertThat(port).isNotEqualTo("29500"); // each pod has its own port space on a cluster
    assertThat(leader).contains("port=" + port + " ").contains("rdzv=" + leaderIp + ":" + port);
    assertThat(follower).contains("gpus=sandbox-gpu-0");
    Path bucket = data.resolve("state/objects/ckpt/job-a").toAbsolutePath();
    assertThat(follower).contains("ckpt=" + bucket.toUri().toString().replaceAll("/$", ""));
    assertThat(Files.readString(bucket.resolve("leader")).trim()).isEqualTo("from-leader");
    assertThat(Files.readString(bucket.resolve("follower")).trim()).isEqualTo("from-follower");
  }

  @Test
  void followingTheLogStreamsOutputUntilTheProcessEnds() throws Exception {
    pod(
        "ticker",
        "box-6",
        "ghcr.io/gpupool/workloads:0.1",
        Map.of(),
        "/bin/sh",
        "-c",
        "for i in 1 2 3 4 5; do echo tick $i; sleep 0.3; done");
    until(() -> "Running".equals(phase("ticker")));
    HttpResponse<String> followed =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            sandbox.url()
                                + "/api/v1/namespaces/default/pods/ticker/log?follow=true"))
                    .timeout(Duration.ofSeconds(20))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    // the response ended by itself once the process exited, with every line
    assertThat(followed.body()).isEqualTo("tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n");
    until(() -> "Succeeded".equals(phase("ticker")));
    assertThat(client.pods().inNamespace("default").withName("ticker").tailingLines(2).getLog())
        .isEqualTo("tick 4\ntick 5\n");
  }

  @Test
  void aNodeThatFailsOrLeavesKillsItsProcesses() throws Exception {
    pod(
        "sleeper-a",
        "box-7",
        "ghcr.io/gpupool/workloads:0.1",
        Map.of(),
        "/bin/sh",
        "-c",
        "echo $$ > pid; sleep 300");
    pod(
        "sleeper-b",
        "box-8",
        "ghcr.io/gpupool/workloads:0.1",
        Map.of(),
        "/bin/sh",
        "-c",
        "echo $$ > pid; sleep 300");
    Path pidA = data.resolve("state/pods/default/sleeper-a/pid");
    Path pidB = data.resolve("state/pods/default/sleeper-b/pid");
    until(
        () ->
            Files.exists(pidA)
                && Files.size(pidA) > 0
                && Files.exists(pidB)
                && Files.size(pidB) > 0);
    long a = Long.parseLong(Files.readString(pidA).trim());
    long b = Long.parseLong(Files.readString(pidB).trim());
    assertThat(ProcessHandle.of(a)).isPresent();

    sandbox.kubelet().nodeNotReady("box-7");
    until(() -> ProcessHandle.of(a).map(h -> !h.isAlive()).orElse(true));
    assertThat(phase("sleeper-a")).as("a down kubelet reports nothing").isEqualTo("Running");

    sandbox.kubelet().removeNode("box-8");
    until(() -> ProcessHandle.of(b).map(h -> !h.isAlive()).orElse(true));
    until(() -> get("sleeper-b") == null);

    sandbox.kubelet().nodeReady("box-7");
    // back up: the kubelet reports the container that died with the machine
    until(() -> "Failed".equals(phase("sleeper-a")));
    assertThat(
            get("sleeper-a")
                .getStatus()
                .getContainerStatuses()
                .get(0)
                .getState()
                .getTerminated()
                .getExitCode())
        .isEqualTo(137);
  }

  @Test
  void aServiceNameReachesItsReadyProcessPods() throws Exception {
    Pod web =
        new PodBuilder()
            .withNewMetadata()
            .withName("web-0")
            .withNamespace("default")
            .addToLabels("app", "web")
            .endMetadata()
            .withNewSpec()
            .withNodeName("box-9")
            .withRestartPolicy("Never")
            .addNewContainer()
            .withName("server")
            .withImage("ghcr.io/gpupool/workloads:0.1")
            .withCommand("python3", "-m", "http.server", "8080", "--bind", "$(POD_IP)")
            .addNewPort()
            .withContainerPort(8080)
            .endPort()
            .withNewReadinessProbe()
            .withNewTcpSocket()
            .withNewPort(8080)
            .endTcpSocket()
            .endReadinessProbe()
            .endContainer()
            .endSpec()
            .build();
    client.resource(web).create();
    client
        .resource(
            new io.fabric8.kubernetes.api.model.ServiceBuilder()
                .withNewMetadata()
                .withName("web")
                .withNamespace("default")
                .endMetadata()
                .withNewSpec()
                .addToSelector("app", "web")
                .addNewPort()
                .withPort(80)
                .withNewTargetPort(8080)
                .endPort()
                .endSpec()
                .build())
        .create();
    until(() -> "Running".equals(phase("web-0")));
    until(
        () ->
            get("web-0").getStatus().getConditions().stream()
                .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus())));
    String address = sandbox.kubelet().resolve("web.default.svc.cluster.local").orElseThrow();
    assertThat(address).startsWith("127.79.");
    HttpResponse<String> listing =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://" + address + ":80/"))
                    .timeout(Duration.ofSeconds(10))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(listing.statusCode()).isEqualTo(200);
    assertThat(listing.body()).contains("server.log"); // its working directory, listed
    client.pods().inNamespace("default").withName("web-0").delete();
  }
}
