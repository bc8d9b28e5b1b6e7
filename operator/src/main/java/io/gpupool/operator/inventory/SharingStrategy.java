package io.gpupool.operator.inventory;

import java.util.Locale;
import java.util.Optional;

/** How the device plugin shares each physical GPU. */
public enum SharingStrategy {
  NONE("none"),
  TIME_SLICING("time-slicing"),
  MPS("mps");

  private final String label;

  SharingStrategy(String label) {
    this.label = label;
  }

  /** The value GFD writes in {@code nvidia.com/gpu.sharing-strategy}. */
  public String label() {
    return label;
  }

  static Optional<SharingStrategy> fromLabel(String value) {
    for (SharingStrategy s : values()) {
      if (s.label.equals(value.toLowerCase(Locale.ROOT))) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }
}
