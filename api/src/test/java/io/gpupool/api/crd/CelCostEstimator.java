package io.gpupool.api.crd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelValidationException;
import dev.cel.common.ast.CelConstant;
import dev.cel.common.ast.CelExpr;
import dev.cel.parser.CelStandardMacro;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The worst-case cost of a CEL validation rule, estimated the way the Kubernetes API server does
 * when a CRD is created (cel-go's {@code checker/cost.go} over the schema's declared bounds, as
 * {@code apiextensions-apiserver} feeds them): a rule over a string or list without {@code
 * maxLength}/{@code maxItems} is costed as if the value filled a whole 3 MiB request.
 *
 * <p>Covers the parts of CEL that CRD rules use (field selection, {@code has}, comparisons, logic,
 * {@code size}, string functions, {@code matches}, the comprehension macros). Costs are upper
 * bounds ({@code Max} in cel-go's {@code CostEstimate}).
 */
public final class CelCostEstimator {
  /** Per-rule limit of the API server ({@code StaticEstimatedCostLimit}). */
  public static final long RULE_LIMIT = 10_000_000L;

  /** Limit over all rules of one CRD ({@code StaticEstimatedCRDCostLimit}). */
  public static final long CRD_LIMIT = 100_000_000L;

  /** The API server's request size limit, from which unbounded sizes are estimated. */
  static final long MAX_REQUEST_BYTES = 3L * 1024 * 1024;

  /** Length the API server gives metadata.name in root-level rules (a DNS subdomain). */
  static final long METADATA_NAME_MAX_LENGTH = 253;

  private static final double STRING_TRAVERSAL = 0.1;
  private static final double REGEX_LENGTH = 0.25;

  private static final Cel CEL =
      CelFactory.standardCelBuilder().setStandardMacros(CelStandardMacro.STANDARD_MACROS).build();

  /** A value's schema (null when it is not a path into the object) and its size bound. */
  private record Typed(long cost, JsonNode schema, long size) {}

  private final Map<String, JsonNode> iterationVariables = new HashMap<>();
  private final JsonNode self;

  private CelCostEstimator(JsonNode self) {
    this.self = self;
  }

  /** Worst-case cost of {@code rule} evaluated once on a value of schema {@code selfSchema}. */
  public static long cost(String rule, JsonNode selfSchema) {
    CelExpr expr;
    try {
      expr = CEL.parse(rule).getAst().getExpr();
    } catch (CelValidationException e) {
      throw new IllegalArgumentException("rule does not parse: " + rule, e);
    }
    return new CelCostEstimator(selfSchema).estimate(expr).cost;
  }

  /** Most elements (list items, string characters) a value of {@code schema} can hold. */
  public static long maxSize(JsonNode schema) {
    if (schema == null) {
      return 1;
    }
    switch (schema.path("type").asText()) {
      case "string":
        return schema.has("maxLength") ? schema.get("maxLength").asLong() : MAX_REQUEST_BYTES - 2;
      case "array":
        return schema.has("maxItems")
            ? schema.get("maxItems").asLong()
            : (MAX_REQUEST_BYTES - 2) / (minSerializedSize(schema.path("items")) + 1);
      case "object":
        if (schema.has("maxProperties")) {
          return schema.get("maxProperties").asLong();
        }
        return schema.has("additionalProperties")
            ? (MAX_REQUEST_BYTES - 2) / (minSerializedSize(schema.get("additionalProperties")) + 4)
            : 1;
      default:
        return 1;
    }
  }

  /** Smallest JSON a value of {@code schema} serialises to, as the API server assumes. */
  static long minSerializedSize(JsonNode schema) {
    return switch (schema.path("type").asText()) {
      case "string" -> 2 + schema.path("minLength").asLong(0);
      case "boolean" -> 4;
      case "integer", "number" -> 1;
      default -> 2;
    };
  }

  private Typed estimate(CelExpr e) {
    return switch (e.getKind()) {
      case CONSTANT -> constant(e.constant());
      case IDENT -> ident(e.ident().name());
      case SELECT -> select(e.select());
      case CALL -> call(e.call());
      case COMPREHENSION -> comprehension(e.comprehension());
      case LIST -> list(e.list().elements());
      default -> throw new IllegalArgumentException("unsupported CEL expression " + e.getKind());
    };
  }

  private static Typed constant(CelConstant c) {
    long size = c.getKind() == CelConstant.Kind.STRING_VALUE ? c.stringValue().length() : 1;
    return new Typed(0, null, size);
  }

  private Typed ident(String name) {
    if (name.equals("self")) {
      return new Typed(1, self, maxSize(self));
    }
    JsonNode schema = iterationVariables.get(name);
    return new Typed(1, schema, maxSize(schema));
  }

  private Typed select(CelExpr.CelSelect s) {
    Typed operand = estimate(s.operand());
    if (s.testOnly()) {
      return new Typed(operand.cost + 1, null, 1);
    }
    JsonNode field = fieldSchema(operand.schema, s.field());
    return new Typed(operand.cost + 1, field, maxSize(field));
  }

  private JsonNode fieldSchema(JsonNode object, String field) {
    if (object == null) {
      return null;
    }
    if (object == self && field.equals("metadata")) {
      return METADATA;
    }
    JsonNode property = object.path("properties").path(field);
    if (property.isMissingNode() && object.has("additionalProperties")) {
      return object.get("additionalProperties");
    }
    return property.isMissingNode() ? null : property;
  }

  private static final JsonNode METADATA = metadataSchema();

  private static JsonNode metadataSchema() {
    var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    var name = mapper.createObjectNode().put("type", "string").put("maxLength", 253);
    var meta = mapper.createObjectNode().put("type", "object");
    meta.putObject("properties").set("name", name);
    ((com.fasterxml.jackson.databind.node.ObjectNode) meta.get("properties"))
        .set("generateName", name);
    return meta;
  }

  private Typed list(List<CelExpr> elements) {
    long cost = 10; // ListCreateBaseCost
    for (CelExpr element : elements) {
      cost = add(cost, estimate(element).cost);
    }
    return new Typed(cost, null, elements.size());
  }

  private Typed call(CelExpr.CelCall c) {
    Typed target = c.target().isPresent() ? estimate(c.target().get()) : null;
    Typed[] args = c.args().stream().map(this::estimate).toArray(Typed[]::new);
    long argSum = target == null ? 0 : target.cost;
    for (Typed a : args) {
      argSum = add(argSum, a.cost);
    }
    String f = c.function();
    switch (f) {
      case "_&&_", "_||_":
        return new Typed(argSum, null, 1);
      case "_?_:_":
        return new Typed(
            add(args[0].cost, Math.max(args[1].cost, args[2].cost)),
            null,
            Math.max(args[1].size, args[2].size));
      case "_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_":
        return new Typed(
            add(factor(Math.min(args[0].size, args[1].size), STRING_TRAVERSAL), argSum), null, 1);
      case "matches":
        {
          long subject = target != null ? target.size : args[0].size;
          long regex = target != null ? args[0].size : args[1].size;
          long cost = mul(factor(subject + 1, STRING_TRAVERSAL), factor(regex, REGEX_LENGTH));
          return new Typed(add(cost, argSum), null, 1);
        }
      case "startsWith", "endsWith":
        // cel-go's checker charges the prefix or suffix it compares, not the string it scans.
        return new Typed(add(factor(args[0].size, STRING_TRAVERSAL), argSum), null, 1);
      case "contains":
        return new Typed(
            add(
                mul(factor(target.size, STRING_TRAVERSAL), factor(args[0].size, STRING_TRAVERSAL)),
                argSum),
            null,
            1);
      case "@in":
        // cel-go: membership in a list is O(n); in a map it is a key lookup (in_map is not among
        // the checker's O(n) overloads).
        if (args[1].schema != null && args[1].schema.has("additionalProperties")) {
          return new Typed(add(1, argSum), null, 1);
        }
        return new Typed(add(args[1].size, argSum), null, 1);
      case "_+_":
        return new Typed(
            add(factor(add(args[0].size, args[1].size), STRING_TRAVERSAL), argSum),
            null,
            add(args[0].size, args[1].size));
      default:
        return new Typed(add(1, argSum), null, 1);
    }
  }

  private Typed comprehension(CelExpr.CelComprehension c) {
    Typed range = estimate(c.iterRange());
    long cost = add(range.cost, estimate(c.accuInit()).cost);
    JsonNode element = range.schema == null ? null : range.schema.path("items");
    if (element != null && element.isMissingNode()) {
      element = range.schema.path("additionalProperties");
    }
    iterationVariables.put(c.iterVar(), element instanceof MissingNode ? null : element);
    long perElement = add(estimate(c.loopCondition()).cost, estimate(c.loopStep()).cost);
    iterationVariables.remove(c.iterVar());
    cost = add(cost, estimate(c.result()).cost);
    return new Typed(add(cost, mul(range.size, perElement)), null, range.size);
  }

  private static long factor(long size, double factor) {
    return (long) Math.ceil(size * factor);
  }

  static long add(long a, long b) {
    long r = a + b;
    return r < 0 ? Long.MAX_VALUE : r;
  }

  static long mul(long a, long b) {
    if (a != 0 && b > Long.MAX_VALUE / a) {
      return Long.MAX_VALUE;
    }
    return a * b;
  }
}
