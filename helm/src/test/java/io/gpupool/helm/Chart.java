package io.gpupool.helm;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** The chart under test and helpers to render it with helm-java (template only, never install). */
final class Chart {
  static final Path MODULE = locateModule();
  static final Path DIR = MODULE.resolve("gpupool");
  static final Path CRDS = DIR.resolve("crds");
  static final Path DASHBOARDS = DIR.resolve("dashboards");
  static final Path RULES = DIR.resolve("rules/gpupool-alerts.yaml");
  static final Path RULES_TESTS = MODULE.resolve("rules-tests");
  static final String RELEASE = "gpupool";
  static final String KUBE_VERSION = "1.31.0";

  static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  static final ObjectMapper YAML = new YAMLMapper();
  static final ObjectMapper JSON = new ObjectMapper();

  private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---\\s*$");

  private Chart() {}

  private static Path locateModule() {
    Path cwd = Path.of("").toAbsolutePath();
    for (Path candidate : List.of(cwd, cwd.resolve("helm"))) {
      if (Files.isDirectory(candidate.resolve("gpupool/templates"))) {
        return candidate;
      }
    }
    throw new IllegalStateException("helm/gpupool not found from " + cwd);
  }

  /** Renders the chart in {@code namespace} with {@code --set key=value} for each entry. */
  static String template(String namespace, Map<String, ?> set) {
    TemplateCommand command =
        new Helm(DIR)
            .template()
            .withName(RELEASE)
            .withNamespace(namespace)
            .withKubeVersion(KUBE_VERSION);
    for (Map.Entry<String, ?> e : set.entrySet()) {
      command = command.set(e.getKey(), e.getValue());
    }
    return command.call();
  }

  /**
   * Renders and parses every document into Fabric8 objects (typed where Fabric8 knows the kind).
   */
  static Rendered render(String namespace, Map<String, ?> set) {
    List<HasMetadata> all = parse(template(namespace, set));
    return new Rendered(
        all.stream().filter(r -> !isHook(r)).toList(), all.stream().filter(Chart::isHook).toList());
  }

  /**
   * The chart's hooks (objects annotated helm.sh/hook), rendered. helm-java's template and dry-run
   * install return the release's manifest without its hooks, so a copy of the chart whose templates
   * spell the annotation differently is rendered, and the annotations of its hook objects are given
   * back their helm.sh/ names: what is checked is exactly what the templates render, Helm's running
   * of hooks aside.
   */
  static List<HasMetadata> hooks(String namespace, Map<String, ?> set) {
    String disguise = "hooks.test.gpupool.io/";
    Path copy;
    try {
      copy = Files.createTempDirectory("gpupool-chart-hooks").resolve("gpupool");
      try (java.util.stream.Stream<Path> files = Files.walk(DIR)) {
        for (Path source : files.toList()) {
          Path target = copy.resolve(DIR.relativize(source).toString());
          if (Files.isDirectory(source)) {
            Files.createDirectories(target);
          } else if (source.startsWith(DIR.resolve("templates"))) {
            Files.writeString(
                target, Files.readString(source).replace("helm.sh/hook", disguise + "hook"));
          } else {
            Files.copy(source, target);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    TemplateCommand command =
        new Helm(copy)
            .template()
            .withName(RELEASE)
            .withNamespace(namespace)
            .withKubeVersion(KUBE_VERSION);
    for (Map.Entry<String, ?> e : set.entrySet()) {
      command = command.set(e.getKey(), e.getValue());
    }
    List<HasMetadata> hooks = new ArrayList<>();
    for (HasMetadata object : parse(command.call())) {
      Map<String, String> annotations = object.getMetadata().getAnnotations();
      if (annotations != null
          && annotations.keySet().stream().anyMatch(k -> k.startsWith(disguise))) {
        Map<String, String> restored = new LinkedHashMap<>();
        annotations.forEach((k, v) -> restored.put(k.replace(disguise, "helm.sh/"), v));
        object.getMetadata().setAnnotations(restored);
        hooks.add(object);
      }
    }
    return hooks;
  }

  /** Helm hooks run around install, upgrade and uninstall; they are not the release's objects. */
  static boolean isHook(HasMetadata resource) {
    Map<String, String> annotations = resource.getMetadata().getAnnotations();
    return annotations != null && annotations.containsKey("helm.sh/hook");
  }

  static List<HasMetadata> parse(String manifests) {
    List<HasMetadata> resources = new ArrayList<>();
    for (String document : DOCUMENT_SEPARATOR.split(manifests)) {
      boolean blank =
          document
              .lines()
              .map(String::strip)
              .allMatch(line -> line.isEmpty() || line.startsWith("#"));
      if (!blank) {
        resources.add(SERIALIZATION.unmarshal(document, HasMetadata.class));
      }
    }
    return resources;
  }

  /** Non-default values used across tests: billing on, monitoring on, three replicas. */
  static Map<String, Object> productionValues() {
    Map<String, Object> set = new LinkedHashMap<>();
    set.put("replicaCount", 3);
    set.put("billing.enabled", true);
    set.put("billing.rpcUrl", "https://rpc.example.org");
    set.put("billing.contractAddress", "0x5FbDB2315678afecb367f032d93F642f64180aa3");
    set.put("billing.chainId", 8453);
    set.put("billing.settlementInterval", "10m");
    set.put("billing.batchSize", 50);
    set.put("billing.reporterKey.secretName", "gpupool-reporter");
    set.put("billing.reporterKey.key", "private-key");
    set.put("metrics.serviceMonitor.enabled", true);
    set.put("metrics.serviceMonitor.labels.release", "kube-prometheus-stack");
    set.put("metrics.prometheusRule.enabled", true);
    set.put("dashboards.label", "grafana.io/dashboard");
    set.put("dashboards.labelValue", "gpupool");
    set.put("leaderElection.leaseName", "gpupool-leader");
    set.put("nodes.lostGracePeriod", "2m");
    set.put("planner.holdAfter", "30s");
    set.put("logLevel", "DEBUG");
    return set;
  }

  static Map<String, Object> readYaml(Path file) {
    try {
      @SuppressWarnings("unchecked")
      Map<String, Object> map = YAML.readValue(file.toFile(), Map.class);
      return map;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The rendered resources of the release, with lookups by kind and name, and apart from them the
   * hooks (objects annotated helm.sh/hook).
   */
  record Rendered(List<HasMetadata> resources, List<HasMetadata> hooks) {
    <T extends HasMetadata> List<T> all(Class<T> type) {
      return resources.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T extends HasMetadata> T one(Class<T> type) {
      List<T> found = all(type);
      if (found.size() != 1) {
        throw new AssertionError(
            "expected exactly one " + type.getSimpleName() + ", found " + found.size());
      }
      return found.get(0);
    }

    List<HasMetadata> ofKind(String kind) {
      return resources.stream().filter(r -> kind.equals(r.getKind())).toList();
    }
  }
}
