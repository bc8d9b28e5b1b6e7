package io.gpupool.operator.pool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.operator.validation.InferenceJobValidator;
import io.gpupool.operator.validation.SpecProblems;
import io.gpupool.operator.validation.TrainingJobValidator;
import io.gpupool.sandbox.api.SchemaValidator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * TrainingJobs and InferenceJobs generated from the checked-in CRDs, {@code spec.template} (the pod
 * template, Kubernetes' own deep types) included, keeping only what the API server accepts ({@link
 * ApiServerSchema}). A {@link Tally} counts how many candidates it took, so a test can fail when
 * the generator stops producing accepted jobs instead of passing on none.
 */
public final class GeneratedJobs {
  public static final JsonNode TRAINING = ApiServerSchema.crd("trainingjobs");
  public static final JsonNode INFERENCE = ApiServerSchema.crd("inferencejobs");

  /** A candidate refused this many times in a row means the generator is broken. */
  private static final int TRIES = 200;

  private GeneratedJobs() {}

  /** Candidates generated and accepted so far, and the last refusal (to say why when too few). */
  public static final class Tally {
    private int generated;
    private int accepted;
    private List<String> lastRefusal = List.of();

    public synchronized int generated() {
      return generated;
    }

    public synchronized int accepted() {
      return accepted;
    }

    synchronized void count(List<String> refusals) {
      generated++;
      if (refusals.isEmpty()) {
        accepted++;
      } else {
        lastRefusal = refusals;
      }
    }

    @Override
    public synchronized String toString() {
      return accepted + " of " + generated + " accepted; last refusal " + lastRefusal;
    }
  }

  /**
   * The next generated job of {@code kind} that the API server accepts, as it stores it. A refused
   * candidate is repaired where the API server points: the field it names is generated again (a
   * rule across fields, such as {@code min <= max}, mostly holds after a few draws), and if that
   * does not help the nearest optional field on its path is dropped; a candidate still refused
   * after that is counted as refused and replaced.
   */
  public static ObjectNode accepted(
      JsonNode schema, String kind, String namespace, Random random, Tally tally) {
    for (int i = 0; i < TRIES; i++) {
      ObjectNode job = candidate(schema, kind, namespace, random);
      SchemaValues values = new SchemaValues(random);
      Map<String, Integer> redrawn = new HashMap<>();
      List<SchemaValidator.FieldError> errors = ApiServerSchema.errors(job, schema);
      for (int round = 0; !errors.isEmpty() && round < REPAIRS; round++) {
        String field = errors.get(0).field();
        if (field.startsWith("metadata.name")) {
          // the CRD's rules on names (length, DNS-1035): draw another name
          ((ObjectNode) job.get("metadata"))
              .put("name", name(values, random, AcceptedResourcesPropertyTest.longestName(schema)));
        } else if (!repair(job, schema, field, values, redrawn)) {
          break;
        }
        errors = ApiServerSchema.errors(job, schema);
      }
      tally.count(errors.stream().map(SchemaValidator.FieldError::message).toList());
      if (errors.isEmpty()) {
        return job;
      }
    }
    throw new IllegalStateException(TRIES + " candidates in a row refused: " + tally);
  }

  /**
   * As {@link #accepted}, but a job that fits a small pool of the {@link TemplateWords#PRODUCTS}:
   * what decides whether and where it is placed (size, model, queue, placement limits, budget,
   * verification, suspension) is drawn small or left out, while everything else, {@code
   * spec.template} above all, stays generated; it has a template, and the operator's validation
   * accepts it (most generated templates hold something Kubernetes would refuse in a pod, which the
   * operator refuses first). Such jobs are placed, so their pods are built from a generated
   * template; {@link #accepted} jobs mostly stop before that.
   */
  public static ObjectNode fitting(
      JsonNode schema, String kind, String namespace, Random random, Tally tally) {
    for (int i = 0; i < TRIES; i++) {
      ObjectNode job = accepted(schema, kind, namespace, random, tally);
      fit((ObjectNode) job.get("spec"), kind, random);
      if (job.at("/spec/template").size() > 0
          && ApiServerSchema.errors(job, schema).isEmpty()
          && operatorAccepts(job, kind)) {
        return job;
      }
    }
    throw new IllegalStateException(TRIES + " fitting candidates in a row refused: " + tally);
  }

  private static boolean operatorAccepts(ObjectNode job, String kind) {
    SpecProblems problems =
        kind.equals("TrainingJob")
            ? TrainingJobValidator.validate(
                Serialization.unmarshal(job.toString(), TrainingJob.class))
            : InferenceJobValidator.validate(
                Serialization.unmarshal(job.toString(), InferenceJob.class));
    return problems.isEmpty();
  }

  /** Sizes {@code spec} to one or two GPUs per pod, one or two pods, a small model. */
  private static void fit(ObjectNode spec, String kind, Random random) {
    spec.remove(
        List.of(
            "suspend",
            "queue",
            "placement",
            "budget",
            "verification",
            "resources",
            "priorityClassName"));
    spec.putObject("model")
        .put("parameters", List.of("125M", "350M", "1B").get(random.nextInt(3)))
        .put("layers", 12 + random.nextInt(25));
    if (kind.equals("TrainingJob")) {
      spec.putObject("parallelism")
          .put("workers", 1 + random.nextInt(2))
          .put("gpusPerWorker", 1 + random.nextInt(2));
    } else {
      spec.remove(List.of("weights", "sharding", "autoscaling", "allowGpuSharing"));
      spec.putObject("replicas").put("min", 1).put("max", 1 + random.nextInt(2));
      spec.put("gpusPerReplica", 1);
    }
  }

  /** Repairs of one candidate before it counts as refused. */
  private static final int REPAIRS = 20;

  /** Draws of one field before it is dropped instead. */
  private static final int REDRAWS = 3;

  /** One step of a field path: the container, the key or index in it, the schemas around it. */
  private record Step(
      JsonNode container, JsonNode containerSchema, String key, int index, JsonNode schema) {}

  /**
   * Draws the value at {@code field} ({@code spec.replicas.min}, {@code spec.template.sidecars[0]})
   * again, or drops the nearest optional field or list item on its path; false when neither is
   * possible (a rule on the root, a required field all the way up).
   */
  private static boolean repair(
      ObjectNode job,
      JsonNode schema,
      String field,
      SchemaValues values,
      Map<String, Integer> redrawn) {
    if (!field.startsWith("spec")) {
      return false;
    }
    List<Step> path = new ArrayList<>();
    JsonNode node = job;
    JsonNode nodeSchema = schema;
    for (String part : field.replace("[", ".[").split("\\.")) {
      boolean item = part.startsWith("[");
      JsonNode childSchema;
      JsonNode child;
      int index = -1;
      if (item) {
        index = Integer.parseInt(part.substring(1, part.length() - 1));
        childSchema = nodeSchema.path("items");
        child = node.get(index);
      } else {
        childSchema =
            nodeSchema.path("properties").has(part)
                ? nodeSchema.path("properties").path(part)
                : nodeSchema.path("additionalProperties");
        child = node.get(part);
      }
      if (child == null || childSchema.isMissingNode()) {
        break;
      }
      path.add(new Step(node, nodeSchema, item ? null : part, index, childSchema));
      node = child;
      nodeSchema = childSchema;
    }
    if (path.isEmpty()) {
      return false;
    }
    Step last = path.get(path.size() - 1);
    if (redrawn.merge(field, 1, Integer::sum) <= REDRAWS) {
      JsonNode fresh =
          values.valueAt(last.schema(), last.key() == null ? "" : last.key(), path.size());
      if (last.key() != null) {
        ((ObjectNode) last.container()).set(last.key(), fresh);
      } else {
        ((ArrayNode) last.container()).set(last.index(), fresh);
      }
      return true;
    }
    // never the spec itself (step 0): a job without one is a different, degenerate case
    for (int i = path.size() - 1; i >= 1; i--) {
      Step s = path.get(i);
      if (s.key() != null && !required(s.containerSchema(), s.key())) {
        ((ObjectNode) s.container()).remove(s.key());
        return true;
      }
      if (s.key() == null && s.container().size() > s.containerSchema().path("minItems").asInt(0)) {
        ((ArrayNode) s.container()).remove(s.index());
        return true;
      }
    }
    return false;
  }

  private static boolean required(JsonNode objectSchema, String key) {
    for (JsonNode r : objectSchema.path("required")) {
      if (r.asText().equals(key)) {
        return true;
      }
    }
    return false;
  }

  /** A job of {@code kind} with a spec generated from {@code schema}, not yet checked. */
  static ObjectNode candidate(JsonNode schema, String kind, String namespace, Random random) {
    SchemaValues values = new SchemaValues(random);
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("apiVersion", "gpupool.io/v1alpha1").put("kind", kind);
    o.putObject("metadata")
        .put("name", name(values, random, AcceptedResourcesPropertyTest.longestName(schema)))
        .put("namespace", namespace);
    o.set("spec", values.value(schema.at("/properties/spec")));
    return o;
  }

  /**
   * Any name the API server accepts for an object (a DNS-1123 subdomain), short ones likelier, and
   * often one as long as the CRD's rules allow.
   */
  private static String name(SchemaValues values, Random random, int longest) {
    if (random.nextInt(3) == 0) {
      return AcceptedResourcesPropertyTest.label(values, longest);
    }
    String label = "[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?";
    String name = values.sample("^" + label + "(\\." + label + ")?$");
    return random.nextInt(4) == 0 ? name + "-" + "x".repeat(random.nextInt(70)) + "z" : name;
  }
}
