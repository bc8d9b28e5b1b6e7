package io.gpupool.scheduler.plan;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which jobs the workload mix has already counted. The operator plans a pending job again on every
 * capacity change; counting each attempt would weigh the mix towards the jobs that wait longest, so
 * a job counts once, by the key the caller gives it ({@code JobRequest.id()}). Remembers the most
 * recently planned {@code capacity} keys; a job forgotten after that many others counts again,
 * which is the price of bounded memory.
 */
final class JobArrivals {
  /** Jobs remembered by the default scheduler. */
  static final int DEFAULT_CAPACITY = 65_536;

  private final Map<String, Boolean> recent;

  JobArrivals(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1");
    }
    // Access order: a job that keeps being re-planned stays remembered.
    this.recent =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > capacity;
          }
        };
  }

  /** True the first time {@code jobKey} is seen (or the first time since it was forgotten). */
  boolean firstSighting(String jobKey) {
    return recent.put(jobKey, Boolean.TRUE) == null;
  }

  /** Keys remembered now. */
  int remembered() {
    return recent.size();
  }
}
