package io.gpupool.scheduler.hold;

import io.gpupool.scheduler.model.JobRequest;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/** Multi-GPU gangs that could not be placed, the longest waiting first. */
final class WaitingGangs {
  private record Entry(JobRequest request, long since) {}

  private static final Comparator<Entry> LONGEST_WAITING =
      Comparator.comparingLong(Entry::since).thenComparing(e -> e.request().id());

  private final Map<String, Entry> byId = new HashMap<>();
  private final TreeSet<Entry> ordered = new TreeSet<>(LONGEST_WAITING);

  /** Gangs of more than one GPU in all; a one-GPU job never holds capacity for itself. */
  static boolean isGang(JobRequest r) {
    return (long) r.workers() * r.gpusPerWorker() > 1 && r.gpuMilli() == 1000;
  }

  /** {@code r} waits since {@code since} (epoch millis); a later call replaces the earlier one. */
  void waiting(JobRequest r, long since) {
    remove(r.id());
    Entry e = new Entry(r, since);
    byId.put(r.id(), e);
    ordered.add(e);
  }

  /** True when {@code id} was waiting. */
  boolean remove(String id) {
    Entry e = byId.remove(id);
    if (e != null) {
      ordered.remove(e);
    }
    return e != null;
  }

  /** The gang that has waited longest, if it has waited at least {@code holdAfter}; else null. */
  JobRequest head(long now, long holdAfter) {
    if (ordered.isEmpty()) {
      return null;
    }
    Entry first = ordered.first();
    return now - first.since() >= holdAfter ? first.request() : null;
  }
}
