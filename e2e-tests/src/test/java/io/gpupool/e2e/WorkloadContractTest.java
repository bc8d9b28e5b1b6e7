package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.operator.inference.InferenceGroup;
import io.gpupool.operator.queue.PreemptNotice;
import io.gpupool.operator.training.GangEnv;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/workloads.md, the reference workloads' contract module and the variables the operator sets
 * name the same things: a variable added on one side and not the others fails here.
 */
class WorkloadContractTest {
  private static final Path REPO = SandboxCluster.REPO;
  private static final Path WORKLOADS = REPO.resolve("examples/workloads");
  private static final Pattern VARIABLE = Pattern.compile("`([A-Z][A-Z0-9_]+)`");
  private static final Pattern PY_CONSTANT =
      Pattern.compile("(?m)^([A-Z][A-Z0-9_]*) = \"([A-Z][A-Z0-9_]*)\"$");
  private static final Pattern PY_TUPLE_ITEM = Pattern.compile("(?m)^    \"([A-Z][A-Z0-9_]*)\",$");
  private static final Pattern CONTRACT_USE = Pattern.compile("contract\\.([A-Z][A-Z0-9_]*)");

  /** Variables torchrun itself sets in each worker process: not the operator's, not documented. */
  private static final Set<String> SET_BY_TORCHRUN =
      Set.of("LOCAL_RANK", "LOCAL_WORLD_SIZE", "TORCHELASTIC_RESTART_COUNT");

  private static String docs() throws IOException {
    return Files.readString(REPO.resolve("docs/workloads.md"));
  }

  private static Set<String> documented() throws IOException {
    Set<String> names = new TreeSet<>();
    Matcher m = VARIABLE.matcher(docs());
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  /** Variable names the contract module defines (constants and the torchrun tuple). */
  private static Set<String> contractModule() throws IOException {
    String py = Files.readString(WORKLOADS.resolve("gpupool_contract.py"));
    Set<String> names = new TreeSet<>();
    Matcher c = PY_CONSTANT.matcher(py);
    while (c.find()) {
      names.add(c.group(2));
    }
    Matcher t = PY_TUPLE_ITEM.matcher(py);
    while (t.find()) {
      names.add(t.group(1));
    }
    names.remove("gpupool_inflight_requests".toUpperCase()); // the metric is not a variable
    return names;
  }

  private static Set<String> constants(Class<?> type, Pattern fieldName) throws Exception {
    Set<String> values = new TreeSet<>();
    for (Field f : type.getFields()) {
      if (Modifier.isStatic(f.getModifiers())
          && f.getType() == String.class
          && fieldName.matcher(f.getName()).matches()) {
        values.add((String) f.get(null));
      }
    }
    return values;
  }

  @Test
  void everyTrainingVariableTheOperatorSetsIsInTheContractAndDocumented() throws Exception {
    Set<String> operator = constants(GangEnv.class, Pattern.compile(".*"));
    assertThat(operator).isNotEmpty();
    operator.add(PreemptNotice.ENV); // TrainingGang.env sets it on every training pod
    assertThat(contractModule()).containsAll(operator);
    assertThat(documented()).containsAll(operator);
  }

  @Test
  void everyInferenceVariableTheOperatorSetsIsDocumentedHereOrInInferenceMd() throws Exception {
    Set<String> operator =
        constants(InferenceGroup.class, Pattern.compile("(.*_ENV|LWS_.*|.*_PARALLEL_SIZE)"));
    assertThat(operator).contains("GPUPOOL_PORT", "LWS_LEADER_ADDRESS");
    String inference = Files.readString(REPO.resolve("docs/inference.md"));
    for (String name : operator) {
      assertThat(docs().contains(name) || inference.contains("`" + name + "`"))
          .as("%s documented", name)
          .isTrue();
    }
  }

  @Test
  void everyVariableOfTheContractModuleIsDocumented() throws Exception {
    assertThat(documented()).containsAll(contractModule());
  }

  @Test
  void everyDocumentedGpupoolVariableIsOneTheOperatorSets() throws Exception {
    Set<String> set = new TreeSet<>(constants(GangEnv.class, Pattern.compile(".*")));
    set.add(PreemptNotice.ENV);
    set.addAll(constants(InferenceGroup.class, Pattern.compile(".*_ENV")));
    List<String> stray =
        documented().stream()
            .filter(n -> n.startsWith("GPUPOOL_"))
            .filter(n -> !set.contains(n))
            .toList();
    assertThat(stray).as("documented but never set by the operator").isEmpty();
  }

  @Test
  void theReferenceScriptsReadVariablesOnlyThroughTheContract() throws Exception {
    List<String> raw = new ArrayList<>();
    Set<String> used = new TreeSet<>();
    try (Stream<Path> files = Files.list(WORKLOADS)) {
      for (Path script :
          files
              .filter(p -> p.toString().endsWith(".py"))
              .filter(p -> !p.getFileName().toString().equals("gpupool_contract.py"))
              .toList()) {
        String py = Files.readString(script);
        Matcher env =
            Pattern.compile(
                    "environ(?:\\.get)?\\(\\s*\"([A-Z_]+)\"|env(?:_int|_float)?\\(\\s*\"([A-Z_]+)\"")
                .matcher(py);
        while (env.find()) {
          String name = env.group(1) != null ? env.group(1) : env.group(2);
          if (!SET_BY_TORCHRUN.contains(name)) {
            raw.add(script.getFileName() + ": " + name);
          }
        }
        Matcher use = CONTRACT_USE.matcher(py);
        while (use.find()) {
          used.add(use.group(1));
        }
      }
    }
    assertThat(raw).as("variables read by literal name instead of gpupool_contract").isEmpty();
    String contract = Files.readString(WORKLOADS.resolve("gpupool_contract.py"));
    for (String constant : used) {
      assertThat(contract)
          .as("gpupool_contract.%s exists", constant)
          .containsPattern("(?m)^" + constant + " = ");
    }
    assertThat(used)
        .contains(
            "LOCAL_BATCH_SIZE",
            "CHECKPOINT_URI",
            "RESUME_FROM",
            "FIRST_LAYER",
            "LAST_LAYER",
            "PORT");
  }

  @Test
  void theExamplesRunTheReferenceImageAndItsScriptsAndTheImageHoldsThemAll() throws Exception {
    String dockerfile = Files.readString(WORKLOADS.resolve("Dockerfile"));
    List<String> manifests;
    try (Stream<Path> files = Files.list(WORKLOADS)) {
      manifests =
          files.filter(p -> p.toString().endsWith(".yaml")).map(Path::toString).sorted().toList();
    }
    assertThat(manifests).hasSizeGreaterThanOrEqualTo(3);
    for (String manifest : manifests) {
      var object =
          io.fabric8.kubernetes.client.utils.Serialization.unmarshal(
              Files.readString(Path.of(manifest)),
              io.fabric8.kubernetes.api.model.GenericKubernetesResource.class);
      @SuppressWarnings("unchecked")
      Map<String, Object> spec = (Map<String, Object>) object.getAdditionalProperties().get("spec");
      assertThat((String) spec.get("image"))
          .as(manifest)
          .startsWith(io.gpupool.sandbox.kubelet.ProcessMode.IMAGE_PREFIX + ":");
      List<String> words = new ArrayList<>();
      for (String key : List.of("command", "args")) {
        @SuppressWarnings("unchecked")
        List<String> list = (List<String>) spec.getOrDefault(key, List.of());
        words.addAll(list);
      }
      List<String> scripts = words.stream().filter(w -> w.startsWith("/workloads/")).toList();
      assertThat(scripts).as("%s runs a reference script", manifest).isNotEmpty();
      for (String script : scripts) {
        String file = script.substring("/workloads/".length());
        assertThat(WORKLOADS.resolve(file)).as(manifest).exists();
        assertThat(dockerfile).as("the image holds %s", file).contains(file);
      }
    }
    try (Stream<Path> files = Files.list(WORKLOADS)) {
      for (Path py : files.filter(p -> p.toString().endsWith(".py")).toList()) {
        assertThat(dockerfile)
            .as("the image holds %s", py.getFileName())
            .contains(py.getFileName().toString());
      }
    }
  }
}
