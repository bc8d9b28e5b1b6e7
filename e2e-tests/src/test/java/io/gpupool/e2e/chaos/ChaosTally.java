package io.gpupool.e2e.chaos;

import io.gpupool.e2e.chaos.Violation.Kind;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a chaos run counted: the faults injected (by source and kind), the run's own events (jobs,
 * restarts, operator kills), the invariant samples that failed (by invariant) with their first
 * examples, the violations found at the end and the operator's heap. Rendered as the table the run
 * prints (and docs/benchmarks.md records).
 */
public final class ChaosTally {
  private static final int EXAMPLES = 5;

  private final Map<String, Long> faults = new LinkedHashMap<>();
  private final Map<String, Long> events = new LinkedHashMap<>();
  private final Map<Kind, Long> failedSamples = new EnumMap<>(Kind.class);
  private final List<Violation> examples = new ArrayList<>();
  private final List<Violation> atEnd = new ArrayList<>();
  private long samples;
  private String heap = "not sampled";
  private String replicasAtEnd = "";
  private boolean heapReadAtEnd;
  private boolean ended;

  /** Sets the count of one fault kind ({@code source} e.g. "API", kind e.g. "conflict"). */
  public synchronized void fault(String source, String kind, long count) {
    faults.put(source + " " + kind, count);
  }

  /** The count of one fault kind, 0 when none was counted. */
  public synchronized long faultCount(String source, String kind) {
    return faults.getOrDefault(source + " " + kind, 0L);
  }

  /**
   * Faults injected from {@code source} ("API", "RPC", "node"): for the API, the watch faults when
   * {@code watches}, else the request faults.
   */
  public synchronized long faults(String source, boolean watches) {
    return faults.entrySet().stream()
        .filter(e -> e.getKey().startsWith(source + " "))
        .filter(e -> !source.equals("API") || e.getKey().contains(" watch-") == watches)
        .mapToLong(Map.Entry::getValue)
        .sum();
  }

  /** Adds to one of the run's own counts (jobs submitted, leader SIGKILLs, ...). */
  public synchronized void add(String event, long n) {
    events.merge(event, n, Long::sum);
  }

  /** Sets one of the run's own counts. */
  public synchronized void set(String event, long n) {
    events.put(event, n);
  }

  public synchronized long event(String event) {
    return events.getOrDefault(event, 0L);
  }

  /** One continuous check: every invariant it found broken counts one failed sample. */
  public synchronized void sample(List<Violation> violations) {
    samples++;
    violations.stream()
        .map(Violation::kind)
        .distinct()
        .forEach(k -> failedSamples.merge(k, 1L, Long::sum));
    for (Violation v : violations) {
      if (examples.size() < EXAMPLES) {
        examples.add(v);
      }
    }
  }

  public synchronized void atEnd(List<Violation> violations) {
    atEnd.clear();
    atEnd.addAll(violations);
  }

  /**
   * A continuous heap reading, empty when the replica did not answer: a failed reading keeps the
   * last one, and nothing overwrites the end's reading (a sample still in flight when the run ends
   * must not replace it).
   */
  public synchronized void heap(Optional<String> startToNow) {
    if (!ended && startToNow.isPresent()) {
      heap = startToNow.get();
    }
  }

  /** The heap read once the run is quiet; empty when it could not be read. */
  public synchronized void heapAtEnd(Optional<String> startToEnd) {
    heapAtEnd(startToEnd, "");
  }

  /** As {@link #heapAtEnd(Optional)}, with why the reading failed when it did. */
  public synchronized void heapAtEnd(Optional<String> startToEnd, String whyNot) {
    ended = true;
    heapReadAtEnd = startToEnd.isPresent();
    String why = whyNot.isBlank() ? "" : whyNot + "; ";
    heap = startToEnd.orElse("not read at the end (" + why + "last sample: " + heap + ")");
  }

  /**
   * The soak's exit status: 0 when every invariant held and the heap was read at the end, 1 when an
   * invariant broke, 2 when they held but the end's heap figure is missing (the memory invariant
   * then has no evidence).
   */
  public synchronized int exitCode() {
    if (!examples.isEmpty() || !atEnd.isEmpty()) {
      return 1;
    }
    return heapReadAtEnd ? 0 : 2;
  }

  public synchronized long samples() {
    return samples;
  }

  public synchronized long failedSamples(Kind kind) {
    return failedSamples.getOrDefault(kind, 0L);
  }

  /** Every violation seen: the first examples of failed samples, then those at the end. */
  public synchronized List<Violation> violations() {
    List<Violation> all = new ArrayList<>(examples);
    all.addAll(atEnd);
    return all;
  }

  private long endCount(Kind kind) {
    return atEnd.stream().filter(v -> v.kind() == kind).count();
  }

  /**
   * What each operator replica was doing at the end (lease holder, leadership, last warning), shown
   * under the table when an invariant broke: a run whose jobs never ended must say whether any
   * replica was leading.
   */
  public synchronized void replicasAtEnd(String summary) {
    replicasAtEnd = summary;
  }

  /** The run as a Markdown table. */
  public synchronized String table() {
    StringBuilder b = new StringBuilder("| what | count |\n|---|---:|\n");
    faults.forEach((k, n) -> row(b, "fault: " + k, Long.toString(n)));
    events.forEach((k, n) -> row(b, k, Long.toString(n)));
    row(b, "invariant samples (continuous)", Long.toString(samples));
    row(b, "over-commit samples", Long.toString(failedSamples(Kind.GPU_OVERCOMMIT)));
    row(b, "duplicate-pod samples", Long.toString(failedSamples(Kind.DUPLICATE_RANK)));
    row(b, "orphan samples", Long.toString(failedSamples(Kind.ORPHAN)));
    row(b, "paid-twice samples", Long.toString(failedSamples(Kind.PAID_TWICE)));
    row(b, "ledger mismatches at end", Long.toString(endCount(Kind.LEDGER_MISMATCH)));
    row(b, "usage records lost at end", Long.toString(endCount(Kind.RECORD_LOST)));
    row(b, "jobs not in an allowed final phase", Long.toString(endCount(Kind.NOT_FINAL)));
    row(b, "operator heap start → end", heap);
    if (!violations().isEmpty() && !replicasAtEnd.isEmpty()) {
      b.append('\n').append(replicasAtEnd);
    }
    return b.toString();
  }

  private static void row(StringBuilder b, String what, String value) {
    b.append("| ").append(what).append(" | ").append(value).append(" |\n");
  }
}
