package io.gpupool.scheduler.model;

import java.util.List;

/**
 * One requirement of a node term, read as Kubernetes reads a {@code NodeSelectorRequirement}: the
 * value of {@code key} on a node (a label, or the node's name for a {@code matchFields} term) is
 * tested with {@code In}, {@code NotIn}, {@code Exists}, {@code DoesNotExist}, {@code Gt} or {@code
 * Lt}. An operator outside these, or a {@code Gt}/{@code Lt} whose values are not integers, matches
 * no node: a stored spec that validation would refuse must not throw on every placement.
 */
public record NodeRequirement(String key, String operator, List<String> values) {

  public NodeRequirement {
    values = values == null ? List.of() : List.copyOf(values);
  }

  /**
   * True when a node whose {@code key} is {@code value} ({@code present} false: no such key)
   * matches.
   */
  public boolean matches(String value, boolean present) {
    if (key == null || operator == null) {
      return false;
    }
    return switch (operator) {
      case "In" -> present && values.contains(value);
      case "NotIn" -> !present || !values.contains(value);
      case "Exists" -> present;
      case "DoesNotExist" -> !present;
      case "Gt" -> present && compare(value) > 0;
      case "Lt" -> present && compare(value) < 0;
      default -> false;
    };
  }

  private int compare(String value) {
    try {
      return Long.compare(Long.parseLong(value), Long.parseLong(values.get(0)));
    } catch (NumberFormatException | IndexOutOfBoundsException e) {
      return 0; // not comparable: neither greater nor less
    }
  }
}
