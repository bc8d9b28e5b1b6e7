package io.gpupool.api.crd;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * Gives every integer of a generated spec schema the width of the Java field behind it ({@code
 * format: int32} for {@code Integer}, {@code int64} for {@code Long}) and the bounds that make a
 * stored value usable: the range Kubernetes itself validates for that field of a pod (ports, file
 * modes, weights, probe seconds, user and group ids; {@link #KUBERNETES}), and otherwise the int32
 * range for an int32 and {@link #JSON_EXACT} for an int64.
 *
 * <p>Why: the Fabric8 generator writes Kubernetes' own types (the pod template) with a bare {@code
 * type: integer}, and the API server does not check {@code format: int32} (it validates string
 * formats only), so it would store {@code containerPort: 99999999999}. The operator's model could
 * not even read such a job (its Integer field overflows), and a value Kubernetes refuses in a pod
 * would fail every pod creation. {@code minimum}/{@code maximum} are checked by every API server.
 * Bounds the model declares itself ({@code @Min}/{@code @Max}) are kept.
 */
final class IntegerWidths {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** An inclusive range; {@code null} for no bound on that side. */
  record Range(Long min, Long max) {
    static Range of(long min, long max) {
      return new Range(min, max);
    }

    static Range atLeast(long min) {
      return new Range(min, null);
    }

    /** This range, each open side closed by {@code outer}'s. */
    Range orElse(Range outer) {
      return new Range(min != null ? min : outer.min, max != null ? max : outer.max);
    }
  }

  private static final Range INT32 = Range.of(Integer.MIN_VALUE, Integer.MAX_VALUE);

  /**
   * For int64 fields Kubernetes leaves open (toleration and grace seconds): the integers a JSON
   * number holds exactly (2^53 - 1), so every API server compares the bound exactly, and what it
   * stores the operator's Long fields can read. A bound at 2^63 - 1 would not hold: as a double it
   * rounds up to 2^63, which a validator comparing doubles then lets through.
   */
  static final long JSON_EXACT = (1L << 53) - 1;

  private static final Range EXACT = Range.of(-JSON_EXACT, JSON_EXACT);
  private static final Range PORT = Range.of(1, 65535);
  private static final Range OPTIONAL_PORT = Range.of(0, 65535);
  private static final Range FILE_MODE = Range.of(0, 0777);
  private static final Range DISK_NUMBER = Range.of(0, 255);
  private static final Range WEIGHT = Range.of(1, 100);
  private static final Range NON_NEGATIVE = Range.atLeast(0);
  private static final Range ID = Range.of(0, Integer.MAX_VALUE);

  /**
   * What Kubernetes' pod validation (pkg/apis/core/validation) refuses, by {@code Type.field} of
   * the Kubernetes type (Fabric8's class names are the Go type names). A value outside these ranges
   * is accepted into a job but makes every pod creation fail; for a list of numbers the range is
   * each item's.
   */
  static final Map<String, Range> KUBERNETES =
      Map.ofEntries(
          Map.entry("ContainerPort.containerPort", PORT),
          Map.entry("ContainerPort.hostPort", OPTIONAL_PORT),
          Map.entry("GRPCAction.port", PORT),
          Map.entry("Probe.initialDelaySeconds", NON_NEGATIVE),
          Map.entry("Probe.timeoutSeconds", NON_NEGATIVE),
          Map.entry("Probe.periodSeconds", NON_NEGATIVE),
          Map.entry("Probe.successThreshold", NON_NEGATIVE),
          Map.entry("Probe.failureThreshold", NON_NEGATIVE),
          Map.entry("Probe.terminationGracePeriodSeconds", Range.atLeast(1)),
          Map.entry("SleepAction.seconds", NON_NEGATIVE),
          Map.entry("SecretVolumeSource.defaultMode", FILE_MODE),
          Map.entry("ConfigMapVolumeSource.defaultMode", FILE_MODE),
          Map.entry("DownwardAPIVolumeSource.defaultMode", FILE_MODE),
          Map.entry("ProjectedVolumeSource.defaultMode", FILE_MODE),
          Map.entry("KeyToPath.mode", FILE_MODE),
          Map.entry("DownwardAPIVolumeFile.mode", FILE_MODE),
          Map.entry("ServiceAccountTokenProjection.expirationSeconds", Range.of(600, 1L << 32)),
          Map.entry("GCEPersistentDiskVolumeSource.partition", DISK_NUMBER),
          Map.entry("AWSElasticBlockStoreVolumeSource.partition", DISK_NUMBER),
          Map.entry("FCVolumeSource.lun", DISK_NUMBER),
          Map.entry("ISCSIVolumeSource.lun", DISK_NUMBER),
          Map.entry("PreferredSchedulingTerm.weight", WEIGHT),
          Map.entry("WeightedPodAffinityTerm.weight", WEIGHT),
          Map.entry("PodSecurityContext.runAsUser", ID),
          Map.entry("PodSecurityContext.runAsGroup", ID),
          Map.entry("PodSecurityContext.fsGroup", ID),
          Map.entry("PodSecurityContext.supplementalGroups", ID),
          Map.entry("SecurityContext.runAsUser", ID),
          Map.entry("SecurityContext.runAsGroup", ID));

  private IntegerWidths() {}

  /** Marks the integers of {@code schema}, the schema of a value of {@code type}; true if any. */
  static boolean mark(ObjectNode schema, Class<?> type) {
    return mark(schema, MAPPER.constructType(type), null);
  }

  private static boolean mark(ObjectNode schema, JavaType type, Range kubernetes) {
    Class<?> raw = type.getRawClass();
    if (raw == Integer.class || raw == int.class) {
      return width(schema, "int32", kubernetes == null ? INT32 : kubernetes.orElse(INT32));
    }
    if (raw == Long.class || raw == long.class) {
      return width(schema, "int64", kubernetes == null ? EXACT : kubernetes.orElse(EXACT));
    }
    if (type.isCollectionLikeType() || type.isArrayType()) {
      return schema.get("items") instanceof ObjectNode items
          && mark(items, type.getContentType(), kubernetes);
    }
    if (type.isMapLikeType()) {
      return schema.get("additionalProperties") instanceof ObjectNode values
          && mark(values, type.getContentType(), null);
    }
    if (!(schema.get("properties") instanceof ObjectNode properties)) {
      return false;
    }
    boolean changed = false;
    for (BeanPropertyDefinition property :
        MAPPER.getSerializationConfig().introspect(type).findProperties()) {
      if (properties.get(property.getName()) instanceof ObjectNode child) {
        Range bound = KUBERNETES.get(raw.getSimpleName() + "." + property.getName());
        changed |= mark(child, property.getPrimaryType(), bound);
      }
    }
    return changed;
  }

  /** Writes the format and each missing side of {@code range}; true if anything was written. */
  private static boolean width(ObjectNode schema, String format, Range range) {
    if (!"integer".equals(schema.path("type").asText())) {
      return false;
    }
    schema.put("format", format);
    if (range != null && range.min() != null && !schema.has("minimum")) {
      schema.put("minimum", range.min());
    }
    if (range != null && range.max() != null && !schema.has("maximum")) {
      schema.put("maximum", range.max());
    }
    return true;
  }
}
