package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Label selectors (equality and set-based) and field selectors ({@code a.b=c}, {@code a.b!=c}),
 * evaluated by the sandbox itself so that every path kubectl uses is supported.
 */
public final class Selectors {

  private enum Op {
    EQ,
    NE,
    IN,
    NOTIN,
    EXISTS,
    NOT_EXISTS
  }

  private record Requirement(String key, Op op, Set<String> values) {}

  private final List<Requirement> labels;
  private final List<Requirement> fields;

  private Selectors(List<Requirement> labels, List<Requirement> fields) {
    this.labels = labels;
    this.fields = fields;
  }

  /**
   * Parses the {@code labelSelector} and {@code fieldSelector} query values (either may be null).
   */
  public static Selectors parse(String labelSelector, String fieldSelector) {
    return new Selectors(parseLabels(labelSelector), parseFields(fieldSelector));
  }

  public boolean isEmpty() {
    return labels.isEmpty() && fields.isEmpty();
  }

  /** True when the object satisfies every requirement. */
  public boolean matches(JsonNode object) {
    JsonNode objLabels = object.path("metadata").path("labels");
    for (Requirement r : labels) {
      JsonNode v = objLabels.get(r.key());
      if (!test(r, v == null || v.isNull() ? null : v.asText())) {
        return false;
      }
    }
    for (Requirement r : fields) {
      JsonNode v = JsonPath.first(object, "." + r.key());
      String value = v == null ? "" : v.asText();
      if (!test(r, value)) {
        return false;
      }
    }
    return true;
  }

  private static boolean test(Requirement r, String value) {
    return switch (r.op()) {
      case EQ, IN -> value != null && r.values().contains(value);
      case NE, NOTIN -> value == null || !r.values().contains(value);
      case EXISTS -> value != null;
      case NOT_EXISTS -> value == null;
    };
  }

  private static List<Requirement> parseLabels(String selector) {
    List<Requirement> out = new ArrayList<>();
    if (selector == null || selector.isBlank()) {
      return out;
    }
    for (String part : splitTopLevel(selector)) {
      String p = part.trim();
      if (p.isEmpty()) {
        continue;
      }
      String lower = p.replaceAll("\\s+", " ");
      int in = lower.indexOf(" in ");
      int notin = lower.indexOf(" notin ");
      if (notin > 0) {
        out.add(
            new Requirement(
                lower.substring(0, notin).trim(), Op.NOTIN, setValues(lower.substring(notin + 7))));
      } else if (in > 0) {
        out.add(
            new Requirement(
                lower.substring(0, in).trim(), Op.IN, setValues(lower.substring(in + 4))));
      } else if (p.contains("!=")) {
        String[] kv = p.split("!=", 2);
        out.add(new Requirement(kv[0].trim(), Op.NE, Set.of(kv[1].trim())));
      } else if (p.contains("==")) {
        String[] kv = p.split("==", 2);
        out.add(new Requirement(kv[0].trim(), Op.EQ, Set.of(kv[1].trim())));
      } else if (p.contains("=")) {
        String[] kv = p.split("=", 2);
        out.add(new Requirement(kv[0].trim(), Op.EQ, Set.of(kv[1].trim())));
      } else if (p.startsWith("!")) {
        out.add(new Requirement(p.substring(1).trim(), Op.NOT_EXISTS, Set.of()));
      } else {
        out.add(new Requirement(p, Op.EXISTS, Set.of()));
      }
    }
    return out;
  }

  private static List<Requirement> parseFields(String selector) {
    List<Requirement> out = new ArrayList<>();
    if (selector == null || selector.isBlank()) {
      return out;
    }
    for (String part : selector.split(",")) {
      String p = part.trim();
      if (p.contains("!=")) {
        String[] kv = p.split("!=", 2);
        out.add(new Requirement(kv[0].trim(), Op.NE, Set.of(kv[1].trim())));
      } else if (p.contains("==")) {
        String[] kv = p.split("==", 2);
        out.add(new Requirement(kv[0].trim(), Op.EQ, Set.of(kv[1].trim())));
      } else if (p.contains("=")) {
        String[] kv = p.split("=", 2);
        out.add(new Requirement(kv[0].trim(), Op.EQ, Set.of(kv[1].trim())));
      }
    }
    return out;
  }

  private static Set<String> setValues(String s) {
    String inner = s.trim();
    if (inner.startsWith("(") && inner.endsWith(")")) {
      inner = inner.substring(1, inner.length() - 1);
    }
    Set<String> values = new HashSet<>();
    Arrays.stream(inner.split(","))
        .map(String::trim)
        .filter(v -> !v.isEmpty())
        .forEach(values::add);
    return values;
  }

  /** Splits on commas that are not inside parentheses. */
  private static List<String> splitTopLevel(String s) {
    List<String> parts = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == ',' && depth == 0) {
        parts.add(s.substring(start, i));
        start = i + 1;
      }
    }
    parts.add(s.substring(start));
    return parts;
  }
}
