package io.gpupool.operator.allocation;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What {@link AllocationLedger#holdings()} says, kept up to date change by change instead of copied
 * whole: each holder's slots by node, each node's slots by holder, and a journal of the nodes whose
 * holdings changed. A placement lays out only the nodes that changed since its last look (at 10,000
 * jobs the whole copy, made per placement under the ledger's lock, was most of a decision).
 *
 * <p>Not thread-safe: the ledger changes it under its lock, and placements read it inside {@link
 * AllocationLedger#decide}.
 */
public final class NodeHoldings {
  /**
   * Journal entries kept; a reader further behind lays out every node again. Large enough that a
   * view kept between placements is never that far behind while placements happen.
   */
  static final int JOURNAL_LIMIT = 1 << 16;

  private final SortedMap<String, Map<String, Integer>> byHolder = new TreeMap<>();
  private final Map<String, Map<String, Integer>> byNode = new HashMap<>();
  private final List<String> journal = new ArrayList<>();

  /** Position of the journal's first entry since the ledger was made. */
  private long journalStart;

  /**
   * {@code holder} now holds {@code slots} by node (empty: nothing); records the nodes where that
   * differs from before.
   */
  void set(String holder, Map<String, Integer> slots) {
    Map<String, Integer> before = byHolder.getOrDefault(holder, Map.of());
    if (before.equals(slots)) {
      return;
    }
    Set<String> nodes = new HashSet<>(before.keySet());
    nodes.addAll(slots.keySet());
    for (String node : nodes) {
      int now = slots.getOrDefault(node, 0);
      if (before.getOrDefault(node, 0) == now) {
        continue;
      }
      Map<String, Integer> there = byNode.computeIfAbsent(node, n -> new HashMap<>());
      if (now > 0) {
        there.put(holder, now);
      } else {
        there.remove(holder);
        if (there.isEmpty()) {
          byNode.remove(node);
        }
      }
      changed(node);
    }
    Map<String, Integer> kept = new HashMap<>(slots);
    kept.values().removeIf(n -> n <= 0);
    if (kept.isEmpty()) {
      byHolder.remove(holder);
    } else {
      byHolder.put(holder, Map.copyOf(kept));
    }
  }

  private void changed(String node) {
    if (journal.size() >= JOURNAL_LIMIT) {
      journalStart += journal.size();
      journal.clear();
    }
    journal.add(node);
  }

  /** Where the journal ends now: pass it to {@link #changedSince} later. */
  public long cursor() {
    return journalStart + journal.size();
  }

  /**
   * The nodes whose holdings changed since {@code cursor} (from {@link #cursor}), or null when the
   * journal no longer reaches back that far (lay out every node).
   */
  public Set<String> changedSince(long cursor) {
    if (cursor < journalStart || cursor > cursor()) {
      return null;
    }
    return new HashSet<>(journal.subList((int) (cursor - journalStart), journal.size()));
  }

  /** Every node something is held on. */
  public Set<String> nodes() {
    return Collections.unmodifiableSet(byNode.keySet());
  }

  /** What is held on {@code node}, holder to slots. */
  public Map<String, Integer> on(String node) {
    Map<String, Integer> there = byNode.get(node);
    return there == null ? Map.of() : Collections.unmodifiableMap(there);
  }

  /** What {@code holder} holds, node to slots. */
  public Map<String, Integer> of(String holder) {
    return byHolder.getOrDefault(holder, Map.of());
  }

  /** The holdings of every holder whose key starts with {@code prefix}, holder to slots by node. */
  public Map<String, Map<String, Integer>> startingWith(String prefix) {
    return Map.copyOf(byHolder.subMap(prefix, prefix + Character.MAX_VALUE));
  }
}
