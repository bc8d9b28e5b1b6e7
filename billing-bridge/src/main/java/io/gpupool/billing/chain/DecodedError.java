package io.gpupool.billing.chain;

import java.util.List;

/**
 * A revert reason in readable form.
 *
 * @param name the custom error's name ({@code StillThawing}), {@code Error} for {@code
 *     require(msg)}, {@code Panic}, or {@code Unknown}
 * @param selector the 4-byte selector as 0x hex, or empty when none was found
 * @param args decoded arguments, rendered as strings
 */
public record DecodedError(String name, String selector, List<String> args) {

  public DecodedError {
    args = List.copyOf(args);
  }

  @Override
  public String toString() {
    return name + "(" + String.join(", ", args) + ")";
  }
}
