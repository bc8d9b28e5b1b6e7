package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The checked-in job CRDs refuse a pod template that takes a name or path the operator's pods
 * already use (the API server would refuse every pod of the job): a sidecar or init container named
 * like the main container, the preemption-notice volume or its mount.
 */
class PodTemplateSchemaTest {
  private static ResourceType training;
  private static ResourceType inference;
  private final SchemaValidator validator = new SchemaValidator();

  @BeforeAll
  static void loadCrds() throws IOException {
    training = load("trainingjobs.gpupool.io.yaml");
    inference = load("inferencejobs.gpupool.io.yaml");
  }

  private static ResourceType load(String file) throws IOException {
    return ResourceRegistry.fromCrd(Json.YAML.readTree(Path.of("..", "crds", file).toFile()))
        .get(0);
  }

  private List<String> errors(ResourceType type, String templateYaml) throws IOException {
    JsonNode object =
        Json.YAML.readTree(
            "apiVersion: gpupool.io/v1alpha1\nkind: "
                + type.kind()
                + "\nmetadata: {name: x}\nspec:\n  template:\n"
                + templateYaml.indent(4));
    return validator.validate(object, type.schema(), null).stream()
        .map(SchemaValidator.FieldError::message)
        .filter(m -> m.startsWith("spec.template"))
        .toList();
  }

  @Test
  void sidecarsAndInitContainersMayNotTakeTheMainContainersName() throws IOException {
    for (ResourceType type : List.of(training, inference)) {
      assertThat(errors(type, "sidecars: [{name: worker, image: x}]"))
          .as(type.kind())
          .singleElement()
          .satisfies(
              m -> assertThat(m).startsWith("spec.template.sidecars").contains("worker or server"));
      assertThat(errors(type, "initContainers: [{name: server, image: x}]"))
          .singleElement()
          .satisfies(m -> assertThat(m).startsWith("spec.template.initContainers"));
      assertThat(
              errors(
                  type,
                  "sidecars: [{name: logs, image: x}]\ninitContainers: [{name: prep, image: x}]"))
          .isEmpty();
    }
  }

  @Test
  void thePreemptionNoticesVolumeAndMountAreTheOperators() throws IOException {
    assertThat(errors(training, "volumes: [{name: gpupool-preempt-notice, emptyDir: {}}]"))
        .singleElement()
        .satisfies(
            m ->
                assertThat(m)
                    .startsWith("spec.template.volumes")
                    .contains("preemption-notice volume"));
    for (String path : List.of("/etc/gpupool/preempt", "/etc/gpupool/preempt/")) {
      assertThat(
              errors(
                  training,
                  "volumes: [{name: cfg, emptyDir: {}}]\nvolumeMounts: [{name: cfg, mountPath: "
                      + path
                      + "}]"))
          .singleElement()
          .satisfies(m -> assertThat(m).startsWith("spec.template.volumeMounts"));
    }
    assertThat(
            errors(
                training,
                "volumes: [{name: cfg, emptyDir: {}}]\nvolumeMounts: [{name: cfg, mountPath:"
                    + " /etc/gpupool}]"))
        .isEmpty();
  }
}
