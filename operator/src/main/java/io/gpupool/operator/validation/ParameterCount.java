package io.gpupool.operator.validation;

import java.math.BigDecimal;
import java.util.Locale;

/**
 * Parses parameter counts the way model cards write them: {@code 13B}, {@code 350M}, {@code 7e9}.
 */
public final class ParameterCount {
  private ParameterCount() {}

  /** The count as a number of parameters; throws with a user-facing message when unreadable. */
  public static long parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("Required value");
    }
    String t = text.trim().toUpperCase(Locale.ROOT);
    long multiplier = 1;
    char last = t.charAt(t.length() - 1);
    switch (last) {
      case 'K' -> multiplier = 1_000L;
      case 'M' -> multiplier = 1_000_000L;
      case 'B' -> multiplier = 1_000_000_000L;
      case 'T' -> multiplier = 1_000_000_000_000L;
      default -> {}
    }
    String number = multiplier == 1 ? t : t.substring(0, t.length() - 1);
    try {
      BigDecimal value = new BigDecimal(number).multiply(BigDecimal.valueOf(multiplier));
      if (value.signum() <= 0) {
        throw new IllegalArgumentException("Invalid value: \"" + text + "\": must be positive");
      }
      return value.longValueExact();
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException(
          "Invalid value: \"" + text + "\": expected a parameter count such as 13B or 350M");
    }
  }
}
