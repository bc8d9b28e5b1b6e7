package io.gpupool.scheduler.model;

import java.util.Objects;

/**
 * The weights a request loads at start: a digest naming them (the same weights have the same digest
 * on every node) and their size, which decides how much a warm node saves.
 */
public record ModelWeights(String digest, long bytes) {
  public ModelWeights {
    Objects.requireNonNull(digest);
    if (digest.isEmpty() || bytes < 0) {
      throw new IllegalArgumentException("weights need a digest and a size >= 0");
    }
  }
}
