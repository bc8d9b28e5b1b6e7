package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.SimpleType;
import dev.cel.extensions.CelExtensions;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Evaluates {@code x-kubernetes-validations} rules (and, for tests of the chart, admission-policy
 * expressions) with CEL-Java, compiled once per rule.
 */
public final class CelRules {

  private static final Cel CEL =
      CelFactory.standardCelBuilder()
          .setOptions(CelOptions.current().enableHeterogeneousNumericComparisons(true).build())
          .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .addCompilerLibraries(CelExtensions.strings())
          .addRuntimeLibraries(CelExtensions.strings())
          .addVar("self", SimpleType.DYN)
          .addVar("oldSelf", SimpleType.DYN)
          .build();

  /** The names a ValidatingAdmissionPolicy's expressions may use. */
  private static final List<String> ADMISSION_VARIABLES =
      List.of("object", "oldObject", "params", "request", "namespaceObject", "variables");

  private static final Cel ADMISSION_CEL = admissionCel();

  private final Map<String, Object> programs = new ConcurrentHashMap<>();
  private final Map<String, Object> admissionPrograms = new ConcurrentHashMap<>();

  /** Outcome of one rule: passed, failed, or could not be evaluated (with the reason). */
  public record Result(boolean passed, String error) {}

  /** Evaluates {@code rule} with {@code self} (and {@code oldSelf} when not null). */
  public Result evaluate(String rule, JsonNode self, JsonNode oldSelf) {
    Object compiled = programs.computeIfAbsent(rule, CelRules::compile);
    if (compiled instanceof String error) {
      return new Result(false, "compilation failed: " + error);
    }
    Map<String, Object> vars = new HashMap<>();
    vars.put("self", toCel(self));
    if (oldSelf != null) {
      vars.put("oldSelf", toCel(oldSelf));
    }
    try {
      Object value = ((CelRuntime.Program) compiled).eval(vars);
      return new Result(Boolean.TRUE.equals(value), null);
    } catch (CelEvaluationException e) {
      return new Result(false, e.getMessage());
    }
  }

  /**
   * Evaluates a ValidatingAdmissionPolicy expression (a variable, a validation or a message) with
   * {@code bindings} among object, oldObject, params, request, namespaceObject and variables: JSON
   * values are converted, others (the variables already computed) passed as they are; a name not
   * bound is CEL null, as oldObject is on CREATE.
   *
   * @return the expression's value
   * @throws IllegalArgumentException when it does not compile or cannot be evaluated
   */
  public Object evaluateAdmission(String expression, Map<String, Object> bindings) {
    Object compiled = admissionPrograms.computeIfAbsent(expression, e -> compile(ADMISSION_CEL, e));
    if (compiled instanceof String error) {
      throw new IllegalArgumentException("compilation failed: " + error);
    }
    Map<String, Object> vars = new HashMap<>();
    for (String name : ADMISSION_VARIABLES) {
      Object value = bindings.get(name);
      vars.put(
          name, value instanceof JsonNode json ? toCel(json) : value == null ? toCel(null) : value);
    }
    try {
      return ((CelRuntime.Program) compiled).eval(vars);
    } catch (CelEvaluationException e) {
      throw new IllegalArgumentException(expression + ": " + e.getMessage(), e);
    }
  }

  private static Cel admissionCel() {
    var builder =
        CelFactory.standardCelBuilder()
            .setOptions(CelOptions.current().enableHeterogeneousNumericComparisons(true).build())
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addCompilerLibraries(CelExtensions.strings())
            .addRuntimeLibraries(CelExtensions.strings());
    ADMISSION_VARIABLES.forEach(name -> builder.addVar(name, SimpleType.DYN));
    return builder.build();
  }

  private static Object compile(String rule) {
    return compile(CEL, rule);
  }

  private static Object compile(Cel cel, String rule) {
    try {
      CelAbstractSyntaxTree ast = cel.compile(rule).getAst();
      return cel.createProgram(ast);
    } catch (CelValidationException | CelEvaluationException e) {
      return e.getMessage();
    }
  }

  /** JSON to the Java values CEL-Java understands (Long, Double, String, Boolean, List, Map). */
  static Object toCel(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return dev.cel.common.values.NullValue.NULL_VALUE;
    } else if (node.isObject()) {
      Map<String, Object> map = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        map.put(e.getKey(), toCel(e.getValue()));
      }
      return map;
    } else if (node.isArray()) {
      List<Object> list = new ArrayList<>();
      node.forEach(n -> list.add(toCel(n)));
      return list;
    } else if (node.isIntegralNumber()) {
      return node.asLong();
    } else if (node.isNumber()) {
      return node.asDouble();
    } else if (node.isBoolean()) {
      return node.asBoolean();
    }
    return node.asText();
  }
}
