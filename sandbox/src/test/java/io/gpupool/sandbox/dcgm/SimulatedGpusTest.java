package io.gpupool.sandbox.dcgm;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.gpupool.sandbox.kubelet.KubeletSimulator;
import io.gpupool.sandbox.pool.NodeFactory;
import io.gpupool.sandbox.pool.PoolFile;
import io.gpupool.sandbox.pool.PoolSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The simulated dcgm-exporter's exposition, derived from Nodes and Pods without a cluster. */
class SimulatedGpusTest {
  private static final Instant NOW = Instant.parse("2026-11-22T09:00:00Z");
  private static final PoolSpec POOL = PoolFile.loadDefault();
  private static final Pattern SAMPLE =
      Pattern.compile("^([A-Z_]+)\\{((?:[A-Za-z_]+=\"(?:[^\"\\\\]|\\\\.)*\",?)*)} (\\S+)$");
  private static final Pattern LABEL = Pattern.compile("([A-Za-z_]+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  private final SimulatedGpus gpus = new SimulatedGpus();

  /** One parsed sample line. */
  record Sample(String metric, Map<String, String> labels, double value) {}

  static List<Sample> parse(String exposition) {
    List<Sample> samples = new ArrayList<>();
    for (String line : exposition.lines().toList()) {
      if (line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      assertThat(m.matches()).as("sample line: %s", line).isTrue();
      Map<String, String> labels = new LinkedHashMap<>();
      Matcher l = LABEL.matcher(m.group(2));
      while (l.find()) {
        labels.put(l.group(1), l.group(2));
      }
      samples.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(3))));
    }
    return samples;
  }

  static List<Sample> of(List<Sample> samples, String metric, String hostname) {
    return samples.stream()
        .filter(s -> s.metric().equals(metric) && s.labels().get("Hostname").equals(hostname))
        .toList();
  }

  static Node node(String group, int index) {
    PoolSpec.NodeGroup g =
        POOL.nodeGroups().stream()
            .filter(n -> n.namePrefix().equals(group))
            .findFirst()
            .orElseThrow();
    return NodeFactory.node(g.namePrefix() + "-" + index, g, index, NOW);
  }

  static Pod pod(String name, String node, int gpus, String phase, Instant started) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace("ml")
        .withUid("uid-" + name)
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .addNewContainer()
        .withName("sidecar")
        .endContainer()
        .addNewContainer()
        .withName("worker")
        .withNewResources()
        .addToLimits("nvidia.com/gpu", new Quantity(Integer.toString(gpus)))
        .endResources()
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase(phase)
        .withStartTime(started.toString())
        .endStatus()
        .build();
  }

  @Test
  void everyGpuOfThePoolIsReportedIdleWithDcgmNamesAndLabels() {
    List<Node> nodes = NodeFactory.nodes(POOL, NOW);
    String text = gpus.exposition(nodes, List.of(), NOW);
    List<Sample> samples = parse(text);

    int physical = POOL.nodeGroups().stream().mapToInt(g -> g.count() * g.gpu().count()).sum();
    List<Sample> util =
        samples.stream().filter(s -> s.metric().equals("DCGM_FI_DEV_GPU_UTIL")).toList();
    assertThat(util).hasSize(physical);
    assertThat(util).allMatch(s -> s.value() == 0);
    assertThat(util).noneMatch(s -> s.labels().containsKey("pod"));
    for (String family :
        List.of(
            "DCGM_FI_DEV_GPU_UTIL",
            "DCGM_FI_DEV_FB_USED",
            "DCGM_FI_DEV_FB_FREE",
            "DCGM_FI_DEV_GPU_TEMP",
            "DCGM_FI_DEV_POWER_USAGE",
            "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
            "DCGM_FI_DEV_SM_CLOCK",
            "DCGM_FI_DEV_MEM_COPY_UTIL",
            "DCGM_FI_DEV_XID_ERRORS",
            "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
            "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE")) {
      assertThat(text).containsOnlyOnce("# TYPE " + family + " ");
      assertThat(text).containsOnlyOnce("# HELP " + family + " ");
    }
    assertThat(text).contains("# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter");

    List<Sample> h100 = of(samples, "DCGM_FI_DEV_FB_FREE", "us-east-h100-1");
    assertThat(h100).hasSize(8);
    assertThat(h100.get(0).labels())
        .containsEntry("gpu", "0")
        .containsEntry("device", "nvidia0")
        .containsEntry("modelName", "NVIDIA H100 80GB HBM3")
        .containsEntry("Hostname", "us-east-h100-1")
        .containsEntry("DCGM_FI_DRIVER_VERSION", NodeFactory.DEFAULT_DRIVER)
        .containsKeys("UUID", "pci_bus_id");
    assertThat(h100.get(0).labels().get("UUID")).startsWith("GPU-");
    assertThat(h100).allMatch(s -> s.value() == 81559);
    assertThat(h100.stream().map(s -> s.labels().get("UUID")).distinct()).hasSize(8);
    // Time-sliced products carry "-SHARED" in GFD's label but not in NVML's name.
    assertThat(of(samples, "DCGM_FI_DEV_GPU_UTIL", "eu-west-3090-shared-1").get(0).labels())
        .containsEntry("modelName", "NVIDIA GeForce RTX 3090");
  }

  @Test
  void aRunningPodMakesItsGpusBusyAndLabelsThemWithThePod() {
    Node node = node("eu-west-4090", 1);
    Pod pod = pod("train-0", "eu-west-4090-1", 2, "Running", NOW.minusSeconds(30));
    List<Sample> samples = parse(gpus.exposition(List.of(node), List.of(pod), NOW));

    List<Sample> util = of(samples, "DCGM_FI_DEV_GPU_UTIL", "eu-west-4090-1");
    assertThat(util).hasSize(2);
    for (Sample s : util) {
      assertThat(s.value()).isBetween(75.0, 99.0);
      assertThat(s.labels())
          .containsEntry("pod", "train-0")
          .containsEntry("namespace", "ml")
          .containsEntry("container", "worker");
    }
    double used = of(samples, "DCGM_FI_DEV_FB_USED", "eu-west-4090-1").get(0).value();
    double free = of(samples, "DCGM_FI_DEV_FB_FREE", "eu-west-4090-1").get(0).value();
    assertThat(used).isGreaterThan(0.6 * 24564);
    assertThat(used + free).isEqualTo(24564);
    assertThat(of(samples, "DCGM_FI_DEV_POWER_USAGE", "eu-west-4090-1").get(0).value())
        .isBetween(300.0, 450.0);
    assertThat(of(samples, "DCGM_FI_DEV_GPU_TEMP", "eu-west-4090-1").get(0).value())
        .isGreaterThan(60);
    assertThat(of(samples, "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "eu-west-4090-1").get(0).value())
        .isBetween(0.3, 0.6);
    assertThat(of(samples, "DCGM_FI_DEV_XID_ERRORS", "eu-west-4090-1"))
        .allMatch(s -> s.value() == 0);
  }

  @Test
  void podsThatDoNotRunHoldNoGpu() {
    Node node = node("eu-west-4090", 1);
    List<Pod> pods =
        List.of(
            pod("pending", "eu-west-4090-1", 1, "Pending", NOW),
            pod("done", "eu-west-4090-1", 1, "Succeeded", NOW.minusSeconds(60)),
            pod("elsewhere", "eu-west-4090-2", 1, "Running", NOW));
    List<Sample> util =
        of(
            parse(gpus.exposition(List.of(node), pods, NOW)),
            "DCGM_FI_DEV_GPU_UTIL",
            "eu-west-4090-1");
    assertThat(util).allMatch(s -> s.value() == 0 && !s.labels().containsKey("pod"));
  }

  @Test
  void aPodKeepsItsGpuWhileOthersComeAndGo() {
    Node node = node("eu-west-4090", 1);
    Pod first = pod("first", "eu-west-4090-1", 1, "Running", NOW.minusSeconds(20));
    Pod second = pod("second", "eu-west-4090-1", 1, "Running", NOW.minusSeconds(10));
    assertThat(holders(gpus.exposition(List.of(node), List.of(first, second), NOW)))
        .containsExactly("first", "second");
    assertThat(holders(gpus.exposition(List.of(node), List.of(second), NOW)))
        .containsExactly("", "second");
    Pod third = pod("third", "eu-west-4090-1", 1, "Running", NOW);
    assertThat(holders(gpus.exposition(List.of(node), List.of(second, third), NOW)))
        .containsExactly("third", "second");
  }

  private static List<String> holders(String exposition) {
    return of(parse(exposition), "DCGM_FI_DEV_GPU_UTIL", "eu-west-4090-1").stream()
        .map(s -> s.labels().getOrDefault("pod", ""))
        .toList();
  }

  @Test
  void aTimeSlicedGpuIsBusyInProportionToTheReplicasHeld() {
    Node node = node("eu-west-3090-shared", 1); // 1 GPU, 4 time-slicing replicas
    Pod small = pod("small", "eu-west-3090-shared-1", 1, "Running", NOW.minusSeconds(10));
    double one =
        of(
                parse(gpus.exposition(List.of(node), List.of(small), NOW)),
                "DCGM_FI_DEV_GPU_UTIL",
                "eu-west-3090-shared-1")
            .get(0)
            .value();
    assertThat(one).isBetween(18.0, 25.0);
    Pod big = pod("big", "eu-west-3090-shared-1", 3, "Running", NOW);
    Sample both =
        of(
                parse(gpus.exposition(List.of(node), List.of(small, big), NOW)),
                "DCGM_FI_DEV_GPU_UTIL",
                "eu-west-3090-shared-1")
            .get(0);
    assertThat(both.value()).isBetween(75.0, 99.0);
    assertThat(both.labels()).containsEntry("pod", "small");
  }

  @Test
  void aFaultedNodeReportsXid79AndNoWork() {
    Node node = node("us-east-4090", 1);
    node.getMetadata().getLabels().put(KubeletSimulator.FAULT_LABEL, "NotReady");
    Pod pod = pod("victim", "us-east-4090-1", 1, "Running", NOW.minusSeconds(5));
    List<Sample> samples = parse(gpus.exposition(List.of(node), List.of(pod), NOW));
    assertThat(of(samples, "DCGM_FI_DEV_XID_ERRORS", "us-east-4090-1"))
        .isNotEmpty()
        .allMatch(s -> s.value() == GpuTelemetry.XID_FALLEN_OFF_THE_BUS);
    assertThat(of(samples, "DCGM_FI_DEV_GPU_UTIL", "us-east-4090-1")).allMatch(s -> s.value() == 0);

    node.getMetadata().getLabels().put(KubeletSimulator.FAULT_LABEL, "Ready");
    assertThat(
            of(
                parse(gpus.exposition(List.of(node), List.of(pod), NOW)),
                "DCGM_FI_DEV_XID_ERRORS",
                "us-east-4090-1"))
        .allMatch(s -> s.value() == 0);
  }

  @Test
  void energyGrowsByPowerTimesTime() {
    Node node = node("us-east-h100", 1);
    List<Node> nodes = List.of(node);
    gpus.exposition(nodes, List.of(), NOW);
    List<Sample> later = parse(gpus.exposition(nodes, List.of(), NOW.plusSeconds(10)));
    double watts = of(later, "DCGM_FI_DEV_POWER_USAGE", "us-east-h100-1").get(0).value();
    double mj = of(later, "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "us-east-h100-1").get(0).value();
    assertThat(mj).isCloseTo(watts * 10 * 1000, org.assertj.core.data.Offset.offset(1.0));
  }

  @Test
  void labelValuesAreEscaped() {
    String text =
        DcgmExposition.render(
            List.of(
                new GpuReading(
                    "odd\"host\\",
                    0,
                    "GPU-x",
                    "bus",
                    "model\nname",
                    "",
                    null,
                    1,
                    0,
                    1,
                    1,
                    30,
                    20.0,
                    210,
                    0,
                    0,
                    0)),
            Map.of());
    assertThat(text)
        .contains("Hostname=\"odd\\\"host\\\\\"")
        .contains("modelName=\"model\\nname\"");
  }
}
