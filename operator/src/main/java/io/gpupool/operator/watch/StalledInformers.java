package io.gpupool.operator.watch;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which informers have not been watching for too long: fed, at each look, the informers that are
 * not watching then, it remembers since when each has been so without a break and names those past
 * the patience. An informer seen watching again starts over. Pure: the caller brings the time.
 */
final class StalledInformers {
  private final Duration patience;
  private final Map<String, Instant> notWatchingSince = new HashMap<>();

  StalledInformers(Duration patience) {
    this.patience = patience;
  }

  /** The informers of {@code notWatching} that have not watched since {@code patience} ago. */
  Set<String> look(Instant now, Set<String> notWatching) {
    notWatchingSince.keySet().retainAll(notWatching);
    Set<String> stalled = new TreeSet<>();
    for (String informer : notWatching) {
      Instant since = notWatchingSince.computeIfAbsent(informer, i -> now);
      if (!since.plus(patience).isAfter(now)) {
        stalled.add(informer);
      }
    }
    return stalled;
  }
}
