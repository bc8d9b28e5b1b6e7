package io.gpupool.api.crd;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes {@code x-kubernetes-list-type: map} and {@code x-kubernetes-list-map-keys} into a
 * generated CRD for every spec field annotated {@link MapList}, the item bounds of {@link
 * ItemBounds}, and the integer widths and bounds of {@link IntegerWidths}. Run at build time,
 * before {@link PrinterColumnOrder} (which adds the file header).
 */
public final class SchemaMarks {
  private static final ObjectMapper YAML =
      new ObjectMapper(
          new YAMLFactory()
              .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
              .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));

  private SchemaMarks() {}

  /**
   * Marks the annotated fields of {@code specClass} in {@code crdFile} (its {@code spec} schema).
   */
  public static void mark(Path crdFile, Class<?> specClass) throws IOException {
    ObjectNode crd = (ObjectNode) YAML.readTree(crdFile.toFile());
    boolean changed = false;
    for (var version : crd.path("spec").path("versions")) {
      var spec = version.at("/schema/openAPIV3Schema/properties/spec");
      if (spec instanceof ObjectNode s) {
        changed |= mark(s, specClass);
        changed |= IntegerWidths.mark(s, specClass);
      }
    }
    if (changed) {
      Files.writeString(crdFile, YAML.writeValueAsString(crd));
    }
  }

  private static boolean mark(ObjectNode schema, Class<?> type) {
    boolean changed = false;
    for (Field field : type.getFields()) {
      if (Modifier.isStatic(field.getModifiers())
          || !(schema.path("properties").get(field.getName()) instanceof ObjectNode property)) {
        continue;
      }
      MapList mapList = field.getAnnotation(MapList.class);
      if (mapList != null) {
        property.put("x-kubernetes-list-type", "map");
        ArrayNode keys = property.putArray("x-kubernetes-list-map-keys");
        for (String key : mapList.value()) {
          keys.add(key);
        }
        changed = true;
      }
      ItemBounds bounds = field.getAnnotation(ItemBounds.class);
      if (bounds != null
          && property.get("items") instanceof ObjectNode listItems
          && (bounds.field().isEmpty()
                  ? listItems
                  : listItems.path("properties").get(bounds.field()))
              instanceof ObjectNode items) {
        if (!bounds.pattern().isEmpty()) {
          items.put("pattern", bounds.pattern());
        }
        items.put("maxLength", bounds.maxLength());
        if (bounds.required() && listItems != items) {
          listItems.withArray("required").add(bounds.field());
        }
        changed = true;
      }
      Class<?> nested = elementType(field);
      if (nested.getName().startsWith("io.gpupool.api")) {
        ObjectNode next =
            property.has("items") ? (ObjectNode) property.get("items") : (ObjectNode) property;
        changed |= mark(next, nested);
      }
    }
    return changed;
  }

  private static Class<?> elementType(Field field) {
    if (field.getGenericType() instanceof ParameterizedType p
        && p.getActualTypeArguments()[0] instanceof Class<?> element) {
      return element;
    }
    return field.getType();
  }

  /** Arguments: the directory holding the generated {@code <plural>.<group>-v1.yml} files. */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    mark(
        dir.resolve("gpuproviders.gpupool.io-v1.yml"),
        io.gpupool.api.v1alpha1.GpuProviderSpec.class);
    mark(
        dir.resolve("trainingjobs.gpupool.io-v1.yml"),
        io.gpupool.api.v1alpha1.TrainingJobSpec.class);
    mark(
        dir.resolve("inferencejobs.gpupool.io-v1.yml"),
        io.gpupool.api.v1alpha1.InferenceJobSpec.class);
    mark(
        dir.resolve("billingaccounts.gpupool.io-v1.yml"),
        io.gpupool.api.v1alpha1.BillingAccountSpec.class);
    mark(dir.resolve("gpuqueues.gpupool.io-v1.yml"), io.gpupool.api.v1alpha1.GpuQueueSpec.class);
  }
}
