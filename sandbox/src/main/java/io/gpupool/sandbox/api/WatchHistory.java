package io.gpupool.sandbox.api;

import io.fabric8.mockwebserver.crud.AttributeSet;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The recent writes of each resource, as a real API server's watch cache keeps them: a watch from a
 * resourceVersion gets every event after it replayed (deletions included) before the live ones, so
 * a client that listed and then watches from the list's version misses nothing that happened in
 * between (kubectl's {@code wait --for=delete} and {@code delete --wait} do exactly that). Each
 * resource keeps its last {@code capacity} writes; a watch from a version older than those gets 410
 * Gone and must list again, as from kube-apiserver.
 *
 * <p>Not thread-safe: called under the CRUD dispatcher's write lock only.
 */
final class WatchHistory {

  /** The default number of writes kept per resource (kube-apiserver sizes its cache similarly). */
  static final int DEFAULT_CAPACITY = 1000;

  /**
   * One write: the object's key and JSON before (null for a create) and after (null for a delete).
   * Replayed to a watch as the dispatcher tells its live watchers: MODIFIED when the watch matches
   * both keys, DELETED when only the old one, ADDED when only the new one.
   */
  record Write(
      long resourceVersion,
      AttributeSet oldKey,
      String oldJson,
      AttributeSet newKey,
      String newJson) {

    /**
     * This write as the dispatcher would have sent it live to a watch on {@code query} (see its
     * processEvent), or null when the watch does not see it.
     */
    String eventFor(AttributeSet query) {
      boolean matchedBefore = oldKey != null && oldKey.matches(query);
      boolean matchesNow = newKey != null && newKey.matches(query);
      String type;
      String json;
      if (matchedBefore && matchesNow) {
        type = "MODIFIED";
        json = newJson;
      } else if (matchedBefore) {
        type = "DELETED";
        json = oldJson;
      } else if (matchesNow) {
        type = "ADDED";
        json = newJson;
      } else {
        return null;
      }
      return "{\"type\":\"" + type + "\",\"object\":" + json + "}";
    }
  }

  private int capacity;
  private final Map<String, Deque<Write>> byPlural = new HashMap<>();
  private final Map<String, Long> forgottenUpTo = new HashMap<>();

  WatchHistory(int capacity) {
    limit(capacity);
  }

  /** Keeps at most {@code writesPerResource} writes of each resource from now on. */
  void limit(int writesPerResource) {
    if (writesPerResource < 1) {
      throw new IllegalArgumentException("a watch history keeps at least one write");
    }
    this.capacity = writesPerResource;
    byPlural.forEach(this::forgetBeyondCapacity);
  }

  /** Records a write to {@code plural}, forgetting the oldest beyond the capacity. */
  void record(String plural, Write write) {
    Deque<Write> writes = byPlural.computeIfAbsent(plural, p -> new ArrayDeque<>());
    writes.addLast(write);
    forgetBeyondCapacity(plural, writes);
  }

  private void forgetBeyondCapacity(String plural, Deque<Write> writes) {
    while (writes.size() > capacity) {
      forgottenUpTo.put(plural, writes.removeFirst().resourceVersion());
    }
  }

  /**
   * The writes to {@code plural} after {@code resourceVersion}, oldest first; empty when some of
   * them are forgotten already (the watch is too old: 410 Gone).
   */
  Optional<List<Write>> after(String plural, long resourceVersion) {
    if (forgottenUpTo.getOrDefault(plural, 0L) > resourceVersion) {
      return Optional.empty();
    }
    List<Write> out = new ArrayList<>();
    for (Write w : byPlural.getOrDefault(plural, new ArrayDeque<>())) {
      if (w.resourceVersion() > resourceVersion) {
        out.add(w);
      }
    }
    return Optional.of(out);
  }

  /** The oldest version a watch of {@code plural} may still start from. */
  long oldestReplayable(String plural) {
    return forgottenUpTo.getOrDefault(plural, 0L);
  }

  void clear() {
    byPlural.clear();
    forgottenUpTo.clear();
  }
}
