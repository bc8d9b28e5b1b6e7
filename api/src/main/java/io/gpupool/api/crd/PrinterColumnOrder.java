package io.gpupool.api.crd;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Puts each generated CRD's printer columns back in the order the class declares them.
 *
 * <p>The Fabric8 generator sorts columns by JSON path, which would print AGE first; kubectl users
 * expect the status columns first and AGE last. Run at build time on the generated files.
 */
public final class PrinterColumnOrder {
  private static final ObjectMapper YAML =
      new ObjectMapper(
          new YAMLFactory()
              .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
              .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));

  private PrinterColumnOrder() {}

  /** Reorders the columns in {@code crdFile} to match the annotations on {@code resource}. */
  public static void reorder(Path crdFile, Class<? extends CustomResource<?, ?>> resource)
      throws IOException {
    ObjectNode crd = (ObjectNode) YAML.readTree(crdFile.toFile());
    List<String> declared = new ArrayList<>();
    for (AdditionalPrinterColumn column :
        resource.getAnnotationsByType(AdditionalPrinterColumn.class)) {
      declared.add(column.name());
    }
    for (var version : crd.path("spec").path("versions")) {
      var columns = (ArrayNode) version.get("additionalPrinterColumns");
      if (columns == null) {
        continue;
      }
      List<ObjectNode> sorted = new ArrayList<>();
      columns.forEach(c -> sorted.add((ObjectNode) c));
      sorted.sort(
          (a, b) ->
              Integer.compare(
                  rank(declared, a.path("name").asText()),
                  rank(declared, b.path("name").asText())));
      columns.removeAll();
      sorted.forEach(columns::add);
    }
    Files.writeString(
        crdFile,
        "# Generated from the gpupool API classes; do not edit.\n" + YAML.writeValueAsString(crd));
  }

  private static int rank(List<String> declared, String name) {
    int index = declared.indexOf(name);
    return index < 0 ? Integer.MAX_VALUE : index;
  }

  /** Arguments: the directory holding the generated {@code <plural>.<group>-v1.yml} files. */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    reorder(
        dir.resolve("trainingjobs.gpupool.io-v1.yml"), io.gpupool.api.v1alpha1.TrainingJob.class);
    reorder(
        dir.resolve("inferencejobs.gpupool.io-v1.yml"), io.gpupool.api.v1alpha1.InferenceJob.class);
    reorder(
        dir.resolve("gpuproviders.gpupool.io-v1.yml"), io.gpupool.api.v1alpha1.GpuProvider.class);
    reorder(dir.resolve("gpuqueues.gpupool.io-v1.yml"), io.gpupool.api.v1alpha1.GpuQueue.class);
  }
}
