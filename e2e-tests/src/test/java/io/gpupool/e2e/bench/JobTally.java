package io.gpupool.e2e.bench;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Counts the TrainingJobs of a queue benchmark as their watch events arrive: how many have been
 * seen waiting, admitted (at least once) and finished. Each event costs a lookup of its job, so
 * following 10,000 jobs costs nothing per progress line; listing them all every 2 s kept the
 * sandbox's API server busy serialising them and finally timed out (docs/benchmarks.md).
 *
 * <p>A job's first admission is stamped with the harness's clock when its event arrives, and with
 * the {@code Admitted} condition's transition time (1 s resolution, the operator's clock).
 */
final class JobTally implements ResourceEventHandler<TrainingJob> {

  /** What has been seen of one job so far; each flag only ever turns true. */
  private static final class Seen {
    boolean waiting;
    boolean admitted;
    boolean finished;
    boolean failed;
  }

  /** How many failed jobs are named in the table, with the reason they failed. */
  static final int FAILED_NAMED = 5;

  private final LongSupplier nanoClock;
  private final Map<String, Seen> byJob = new ConcurrentHashMap<>();
  private final AtomicInteger waiting = new AtomicInteger();
  private final AtomicInteger admitted = new AtomicInteger();
  private final AtomicInteger finished = new AtomicInteger();
  private final AtomicInteger failed = new AtomicInteger();
  private final List<String> failedNamed = new ArrayList<>();
  private final List<Long> admittedAtNanos = new ArrayList<>();
  private final List<Instant> admittedConditionTimes = new ArrayList<>();

  JobTally(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
  }

  JobTally() {
    this(System::nanoTime);
  }

  @Override
  public void onAdd(TrainingJob job) {
    see(job);
  }

  @Override
  public void onUpdate(TrainingJob before, TrainingJob job) {
    see(job);
  }

  @Override
  public void onDelete(TrainingJob job, boolean deletedFinalStateUnknown) {
    // the benchmark deletes no job: what was seen of it stays counted
  }

  /** Jobs seen with {@code Admitted=False} at least once (waiting in their queue). */
  int waiting() {
    return waiting.get();
  }

  /** Jobs seen admitted at least once (a finished job counts even if its admission was missed). */
  int admitted() {
    return admitted.get();
  }

  /** Jobs seen Succeeded. */
  int finished() {
    return finished.get();
  }

  /**
   * Jobs seen Failed. A failed job never succeeds, so the run ends when every job has either
   * succeeded or failed, not only when all succeeded.
   */
  int failed() {
    return failed.get();
  }

  /** The first {@link #FAILED_NAMED} failed jobs as "namespace/name (reason)". */
  synchronized List<String> failedNamed() {
    return List.copyOf(failedNamed);
  }

  /** The harness clock ({@link System#nanoTime}) at each first admission, in arrival order. */
  synchronized long[] admissionNanos() {
    return admittedAtNanos.stream().mapToLong(Long::longValue).toArray();
  }

  /** The {@code Admitted} condition's transition time at each first admission seen with one. */
  synchronized List<Instant> admissionConditionTimes() {
    return List.copyOf(admittedConditionTimes);
  }

  private void see(TrainingJob job) {
    String key = job.getMetadata().getNamespace() + "/" + job.getMetadata().getName();
    Seen seen = byJob.computeIfAbsent(key, k -> new Seen());
    Condition admission = admittedCondition(job);
    boolean admittedNow = admission != null && "True".equals(admission.getStatus());
    boolean waitingNow = admission != null && "False".equals(admission.getStatus());
    TrainingJobPhase phase = job.getStatus() == null ? null : job.getStatus().phase;
    boolean succeeded = phase == TrainingJobPhase.Succeeded;
    // The informer hands events over one at a time; the per-job lock keeps each transition counted
    // exactly once even if it did not.
    synchronized (seen) {
      if (waitingNow && !seen.waiting) {
        seen.waiting = true;
        waiting.incrementAndGet();
      }
      if ((admittedNow || succeeded) && !seen.admitted) {
        seen.admitted = true;
        recordAdmission(admittedNow ? admission.getLastTransitionTime() : null);
        admitted.incrementAndGet();
      }
      if (succeeded && !seen.finished) {
        seen.finished = true;
        finished.incrementAndGet();
      }
      if (phase == TrainingJobPhase.Failed && !seen.failed) {
        seen.failed = true;
        recordFailure(key, job);
        failed.incrementAndGet();
      }
    }
  }

  private synchronized void recordFailure(String key, TrainingJob job) {
    if (failedNamed.size() < FAILED_NAMED) {
      String reason =
          job.getStatus().conditions == null
              ? "no reason"
              : job.getStatus().conditions.stream()
                  .filter(c -> "Failed".equals(c.getType()))
                  .map(Condition::getReason)
                  .findFirst()
                  .orElse("no reason");
      failedNamed.add(key + " (" + reason + ")");
    }
  }

  private synchronized void recordAdmission(String conditionTime) {
    admittedAtNanos.add(nanoClock.getAsLong());
    if (conditionTime != null) {
      admittedConditionTimes.add(Instant.parse(conditionTime));
    }
  }

  static Condition admittedCondition(TrainingJob j) {
    if (j.getStatus() == null || j.getStatus().conditions == null) {
      return null;
    }
    return j.getStatus().conditions.stream()
        .filter(c -> "Admitted".equals(c.getType()))
        .findFirst()
        .orElse(null);
  }

  /**
   * The most admissions in any {@code windowNanos} span of {@code sortedNanos}, per second; with
   * two cursors, one pass.
   */
  static double bestRate(long[] sortedNanos, long windowNanos) {
    int best = 0;
    int from = 0;
    for (int to = 0; to < sortedNanos.length; to++) {
      while (sortedNanos[to] - sortedNanos[from] > windowNanos) {
        from++;
      }
      best = Math.max(best, to - from + 1);
    }
    return best / (windowNanos / 1e9);
  }
}
