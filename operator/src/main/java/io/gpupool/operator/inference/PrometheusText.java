package io.gpupool.operator.inference;

import java.util.OptionalDouble;

/** Reads one gauge from the Prometheus text exposition format (version 0.0.4). Pure. */
public final class PrometheusText {
  private PrometheusText() {}

  /**
   * The sum of every sample of {@code metric} (all its label sets), or empty when the text has
   * none. Comments, other metrics and unparseable lines are skipped.
   */
  public static OptionalDouble gauge(String text, String metric) {
    double sum = 0;
    boolean found = false;
    for (String raw : text.split("\n")) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#") || !line.startsWith(metric)) {
        continue;
      }
      String rest = line.substring(metric.length());
      if (rest.startsWith("{")) {
        int close = closingBrace(rest);
        if (close < 0) {
          continue;
        }
        rest = rest.substring(close + 1);
      } else if (!rest.isEmpty() && !Character.isWhitespace(rest.charAt(0))) {
        continue; // a longer metric name with this prefix
      }
      String[] parts = rest.strip().split("\\s+");
      if (parts.length == 0 || parts[0].isEmpty()) {
        continue;
      }
      Double v = value(parts[0]);
      if (v != null && !v.isNaN()) {
        sum += v;
        found = true;
      }
    }
    return found ? OptionalDouble.of(sum) : OptionalDouble.empty();
  }

  /** Index of the brace closing the label set, honouring quoted values with escapes. */
  private static int closingBrace(String s) {
    boolean quoted = false;
    for (int i = 1; i < s.length(); i++) {
      char c = s.charAt(i);
      if (quoted && c == '\\') {
        i++;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == '}' && !quoted) {
        return i;
      }
    }
    return -1;
  }

  private static Double value(String s) {
    switch (s) {
      case "+Inf":
        return Double.POSITIVE_INFINITY;
      case "-Inf":
        return Double.NEGATIVE_INFINITY;
      case "NaN":
        return Double.NaN;
      default:
        try {
          return Double.parseDouble(s);
        } catch (NumberFormatException e) {
          return null;
        }
    }
  }
}
