package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The checked-in TrainingJob CRD refuses bad spot-check settings (schema bounds and CEL). */
class TrainingVerificationSchemaTest {
  private static ResourceType job;
  private final SchemaValidator validator = new SchemaValidator();

  private static final String BASE =
      "image: img\nparallelism: {workers: 2}\nmodel: {parameters: 1B, layers: 4}\n"
          + "command: [torchrun]\nargs: [/workloads/ddp_train.py, --steps, '20']\n";
  private static final String NO_SCRIPT =
      "image: img\nparallelism: {workers: 2}\nmodel: {parameters: 1B, layers: 4}\n";
  private static final String CHECKPOINT = "checkpoint: {uri: 's3://bucket/run'}\n";

  @BeforeAll
  static void loadCrd() throws IOException {
    job =
        ResourceRegistry.fromCrd(
                Json.YAML.readTree(Path.of("..", "crds", "trainingjobs.gpupool.io.yaml").toFile()))
            .get(0);
  }

  private List<String> errors(String specYaml) throws IOException {
    JsonNode object =
        Json.YAML.readTree(
            "apiVersion: gpupool.io/v1alpha1\nkind: TrainingJob\nmetadata: {name: x}\nspec:\n"
                + specYaml.indent(2));
    return validator.validate(object, job.schema(), null).stream()
        .map(SchemaValidator.FieldError::message)
        .toList();
  }

  @Test
  void aSpotCheckedJobWithCheckpointsPasses() throws IOException {
    assertThat(
            errors(
                BASE
                    + CHECKPOINT
                    + "verification: {mode: SpotCheck, sampleRate: 1, tolerance: 0.001}"))
        .isEmpty();
  }

  @Test
  void spotChecksWithoutCheckpointsAreRefused() throws IOException {
    assertThat(errors(BASE + "verification: {mode: SpotCheck}"))
        .anySatisfy(m -> assertThat(m).contains("SpotCheck replays checkpoints"));
    assertThat(errors(BASE + "verification: {mode: None}")).isEmpty();
  }

  @Test
  void spotChecksOfAJobRunningNoPythonScriptAreRefused() throws IOException {
    assertThat(errors(NO_SCRIPT + CHECKPOINT + "verification: {mode: SpotCheck}"))
        .anySatisfy(m -> assertThat(m).contains("no Python script"));
    assertThat(
            errors(
                NO_SCRIPT
                    + CHECKPOINT
                    + "command: [/opt/run.sh]\nargs: [--steps, '20']\n"
                    + "verification: {mode: SpotCheck}"))
        .anySatisfy(m -> assertThat(m).contains("no Python script"));
    assertThat(
            errors(
                NO_SCRIPT
                    + CHECKPOINT
                    + "command: [python3, /workloads/ddp_train.py]\n"
                    + "verification: {mode: SpotCheck}"))
        .isEmpty();
    assertThat(errors(NO_SCRIPT + CHECKPOINT + "verification: {mode: None}")).isEmpty();
  }

  @Test
  void aSampleRateOfZeroOrAboveOneIsRefused() throws IOException {
    assertThat(errors(BASE + CHECKPOINT + "verification: {mode: SpotCheck, sampleRate: 0}"))
        .isNotEmpty();
    assertThat(errors(BASE + CHECKPOINT + "verification: {mode: SpotCheck, sampleRate: 1.5}"))
        .isNotEmpty();
  }

  @Test
  void aToleranceOfZeroOrAboveOneIsRefused() throws IOException {
    assertThat(errors(BASE + CHECKPOINT + "verification: {mode: SpotCheck, tolerance: 0}"))
        .isNotEmpty();
    assertThat(errors(BASE + CHECKPOINT + "verification: {mode: SpotCheck, tolerance: 2}"))
        .isNotEmpty();
  }

  @Test
  void anUnknownModeIsRefused() throws IOException {
    assertThat(errors(BASE + CHECKPOINT + "verification: {mode: Always}")).isNotEmpty();
  }
}
