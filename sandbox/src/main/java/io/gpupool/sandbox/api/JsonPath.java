package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The subset of Kubernetes JSONPath that printer columns use: {@code .a.b}, {@code .a[0]}, {@code
 * .a[*].b}, {@code .a[?(@.type=="Ready")].status}, optionally wrapped in braces.
 */
public final class JsonPath {
  private JsonPath() {}

  /** All values the path selects, in document order. */
  public static List<JsonNode> select(JsonNode root, String path) {
    String p = path.trim();
    if (p.startsWith("{") && p.endsWith("}")) {
      p = p.substring(1, p.length() - 1).trim();
    }
    if (p.startsWith("$")) {
      p = p.substring(1);
    }
    List<JsonNode> current = new ArrayList<>(List.of(root));
    int i = 0;
    while (i < p.length() && !current.isEmpty()) {
      char c = p.charAt(i);
      if (c == '.') {
        int end = i + 1;
        while (end < p.length() && p.charAt(end) != '.' && p.charAt(end) != '[') {
          end++;
        }
        String field = p.substring(i + 1, end);
        if (!field.isEmpty()) {
          List<JsonNode> next = new ArrayList<>();
          for (JsonNode n : current) {
            JsonNode child = n.get(field);
            if (child != null && !child.isNull()) {
              next.add(child);
            }
          }
          current = next;
        }
        i = end;
      } else if (c == '[') {
        int end = findClosing(p, i);
        String inner = p.substring(i + 1, end).trim();
        current = applyBracket(current, inner);
        i = end + 1;
      } else {
        throw new IllegalArgumentException("unsupported JSONPath: " + path);
      }
    }
    return current;
  }

  /** The first selected value, or null. */
  public static JsonNode first(JsonNode root, String path) {
    List<JsonNode> all = select(root, path);
    return all.isEmpty() ? null : all.get(0);
  }

  private static int findClosing(String p, int open) {
    int depth = 0;
    boolean quoted = false;
    for (int i = open; i < p.length(); i++) {
      char c = p.charAt(i);
      if (c == '"' || c == '\'') {
        quoted = !quoted;
      } else if (!quoted && c == '[') {
        depth++;
      } else if (!quoted && c == ']') {
        depth--;
        if (depth == 0) {
          return i;
        }
      }
    }
    throw new IllegalArgumentException("unbalanced [ in JSONPath: " + p);
  }

  private static List<JsonNode> applyBracket(List<JsonNode> current, String inner) {
    List<JsonNode> next = new ArrayList<>();
    if (inner.equals("*")) {
      for (JsonNode n : current) {
        n.forEach(next::add);
      }
    } else if (inner.startsWith("?(") && inner.endsWith(")")) {
      String expr = inner.substring(2, inner.length() - 1).trim();
      int eq = expr.indexOf("==");
      boolean negate = false;
      if (eq < 0) {
        eq = expr.indexOf("!=");
        negate = true;
      }
      if (eq < 0 || !expr.startsWith("@.")) {
        throw new IllegalArgumentException("unsupported JSONPath filter: " + inner);
      }
      String field = expr.substring(2, eq).trim();
      String want = unquote(expr.substring(eq + 2).trim());
      for (JsonNode n : current) {
        for (JsonNode item : n) {
          JsonNode v = first(item, "." + field);
          boolean match = v != null && v.asText().equals(want);
          if (match != negate) {
            next.add(item);
          }
        }
      }
    } else if (inner.startsWith("'") || inner.startsWith("\"")) {
      String field = unquote(inner);
      for (JsonNode n : current) {
        JsonNode child = n.get(field);
        if (child != null && !child.isNull()) {
          next.add(child);
        }
      }
    } else {
      int index = Integer.parseInt(inner);
      for (JsonNode n : current) {
        if (n.isArray()) {
          int idx = index < 0 ? n.size() + index : index;
          if (idx >= 0 && idx < n.size()) {
            next.add(n.get(idx));
          }
        }
      }
    }
    return next;
  }

  private static String unquote(String s) {
    if (s.length() >= 2
        && ((s.startsWith("\"") && s.endsWith("\"")) || (s.startsWith("'") && s.endsWith("'")))) {
      return s.substring(1, s.length() - 1);
    }
    return s;
  }
}
