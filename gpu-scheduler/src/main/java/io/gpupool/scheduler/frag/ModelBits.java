package io.gpupool.scheduler.frag;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/** Assigns each GPU model name one bit so that model constraints are cheap set operations. */
public final class ModelBits {
  private final Map<String, Integer> index = new LinkedHashMap<>();

  /** The bit for {@code model}, assigning a new one on first use (at most 64 models). */
  public synchronized long bit(String model) {
    Integer i = index.get(model);
    if (i == null) {
      if (index.size() == 64) {
        throw new IllegalStateException("more than 64 GPU models");
      }
      i = index.size();
      index.put(model, i);
    }
    return 1L << i;
  }

  /** The mask accepting every model in {@code models}; 0 (any model) when empty. */
  public long mask(Collection<String> models) {
    long m = 0;
    for (String s : models) {
      m |= bit(s);
    }
    return m;
  }
}
