package io.gpupool.operator.pool;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * Words for the strings of Kubernetes' own types inside a job's pod template, which a CRD gives no
 * pattern or enum: the values the operator's code reads (node selector operators, taint effects,
 * the pool's label keys and values, its own volume and container names, resource names), so
 * generated templates reach its code paths instead of only ever missing them. Names a word here
 * does not know get free text.
 */
final class TemplateWords {
  /** The GPU products and regions of the pools the property tests plan on. */
  static final List<String> PRODUCTS =
      List.of("NVIDIA-A100-SXM4-80GB", "NVIDIA-GeForce-RTX-4090", "NVIDIA-GeForce-RTX-3090-SHARED");

  static final List<String> REGIONS = List.of("eu-west", "us-east");

  private static final List<String> LABEL_KEYS =
      List.of(
          "nvidia.com/gpu.product",
          "topology.kubernetes.io/region",
          "gpupool.io/provider",
          "kubernetes.io/hostname",
          "team",
          "app.kubernetes.io/name");

  private static final Map<String, List<String>> WORDS =
      Map.ofEntries(
          Map.entry(
              "operator", List.of("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Equal")),
          Map.entry("effect", List.of("NoSchedule", "NoExecute", "PreferNoSchedule", "")),
          Map.entry("key", union(LABEL_KEYS, List.of("metadata.name", "nvidia.com/gpu", ""))),
          Map.entry("values", union(PRODUCTS, REGIONS, List.of("3", "alice", "a100-1"))),
          Map.entry(
              "name",
              List.of("worker", "server", "shm", "data", "gpupool-dshm", "gpupool-preempt-notice")),
          Map.entry(
              "mountPath",
              List.of("/dev/shm", "/etc/gpupool/preempt", "/etc/gpupool/preempt/", "/data")),
          Map.entry("medium", List.of("Memory", "")),
          Map.entry("topologyKey", List.of("kubernetes.io/hostname", "")),
          Map.entry("nvidia.com/gpu.product", PRODUCTS),
          Map.entry("topology.kubernetes.io/region", REGIONS),
          Map.entry("gpupool.io/provider", List.of("alice", "bob")),
          Map.entry("kubernetes.io/hostname", List.of("a100-1", "4090-1")),
          Map.entry("sizeLimit", List.of("1Gi", "0", "-1")));

  /** The keys of maps by the map's name: labels and selectors, resource lists. */
  private static final Map<String, List<String>> KEYS =
      Map.of(
          "labels",
          LABEL_KEYS,
          "nodeSelector",
          LABEL_KEYS,
          "matchLabels",
          LABEL_KEYS,
          "annotations",
          union(LABEL_KEYS, List.of("gpupool.io/terms")),
          "limits",
          List.of(
              "cpu",
              "memory",
              "nvidia.com/gpu",
              "nvidia.com/gpu.shared",
              "nvidia.com/mig-1g.10gb",
              "ephemeral-storage"),
          "requests",
          List.of(
              "cpu",
              "memory",
              "nvidia.com/gpu",
              "nvidia.com/gpu.shared",
              "nvidia.com/mig-1g.10gb",
              "ephemeral-storage"));

  private TemplateWords() {}

  /** A word for the string property {@code name} (or an item of the list {@code name}). */
  static Optional<String> word(Random random, String name) {
    return pick(random, WORDS.get(name));
  }

  /** A key of the map property {@code name}, most of the time, else empty (free text). */
  static Optional<String> key(Random random, String name) {
    return random.nextInt(4) == 0 ? Optional.empty() : pick(random, KEYS.get(name));
  }

  private static Optional<String> pick(Random random, List<String> words) {
    return words == null ? Optional.empty() : Optional.of(words.get(random.nextInt(words.size())));
  }

  @SafeVarargs
  private static List<String> union(List<String>... lists) {
    return java.util.Arrays.stream(lists).flatMap(List::stream).distinct().toList();
  }
}
