package io.gpupool.e2e.bench;

import io.gpupool.e2e.bench.OperatorLoadBench.Histogram;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What a queue benchmark has measured so far, printed once as its table: at the end of a run, at
 * its time limit, or when it is interrupted. A run on a loaded machine may not finish, and what it
 * measured until then is still worth reporting: a figure not reached says so instead of a number.
 */
final class QueueRunReport {

  private final AtomicBoolean printed = new AtomicBoolean();
  private final int jobs;
  private final int nodes;
  private final Map<String, Integer> gpus;
  private final String loadAtStart;

  // Set as the run goes; read by whoever prints (the main thread or the shutdown hook).
  volatile JobTally tally;
  volatile double createSeconds = -1;
  volatile Instant opened;
  volatile long openNanos;
  volatile String loadAtOpening = "n/a";
  volatile String metricsAtOpening = "";
  volatile long harnessCpuAtOpening;
  volatile double allAdmitted = -1;
  volatile double allFinished = -1;
  volatile String lastMetrics = "";
  volatile double maxHeap;
  volatile double maxLiveAfterGc;
  volatile String stoppedBecause = "not finished";

  QueueRunReport(int jobs, int nodes, Map<String, Integer> gpus, String loadAtStart) {
    this.jobs = jobs;
    this.nodes = nodes;
    this.gpus = gpus;
    this.loadAtStart = loadAtStart;
  }

  /** Takes in one scrape of the operator's metrics: heap samples, the latest histograms. */
  void sample(String metrics) {
    if (metrics.isEmpty()) {
      return;
    }
    lastMetrics = metrics;
    maxHeap =
        Math.max(maxHeap, OperatorLoadBench.sum(metrics, "jvm_memory_used_bytes", "area=\"heap\""));
    maxLiveAfterGc =
        Math.max(maxLiveAfterGc, OperatorLoadBench.sum(metrics, "jvm_gc_live_data_size_bytes", ""));
  }

  /** Prints the table to {@code out} unless it has been printed already. */
  void printOnce(PrintStream out, String harnessCpu) {
    if (!printed.compareAndSet(false, true)) {
      return;
    }
    String metrics = lastMetrics;
    JobTally t = tally;
    int admitted = t == null ? 0 : t.admitted();
    int finished = t == null ? 0 : t.finished();
    int failed = t == null ? 0 : t.failed();
    long[] admissionNanos = t == null ? new long[0] : t.admissionNanos();
    double lastAdmission =
        admissionNanos.length == 0
            ? 0
            : (admissionNanos[admissionNanos.length - 1] - openNanos) / 1e9;
    Histogram cycle = Histogram.parse(metrics, "gpupool_queue_admission_cycle_seconds", "");
    Histogram reconcile =
        Histogram.parse(
            metrics, "gpupool_reconcile_duration_seconds", "controller=\"trainingjob\"");
    double[] toAdmit = secondsFromOpening(t == null ? List.of() : t.admissionConditionTimes());
    out.println("| metric | value |");
    out.println("|---|---|");
    row(out, "pool", "%d nodes, GPUs by flavor %s", nodes, gpus);
    row(
        out,
        "jobs",
        "%d over %d queues (%s while quotas were 0)",
        jobs,
        QueueLoadBench.QUEUES,
        createSeconds < 0
            ? "not all created"
            : String.format(Locale.ROOT, "created in %.1f s", createSeconds));
    row(out, "run ended", "%s", stoppedBecause);
    row(out, "admitted (Admitted=True seen at least once)", "%d", admitted);
    row(out, "finished (Succeeded)", "%d", finished);
    row(
        out,
        "failed",
        "%d%s",
        failed,
        failed == 0
            ? ""
            : " "
                + String.join(", ", t.failedNamed())
                + (failed > JobTally.FAILED_NAMED ? ", ..." : ""));
    row(out, "time from opening the quotas until all admitted", "%s", seconds(allAdmitted));
    row(out, "time until every job succeeded or failed", "%s", seconds(allFinished));
    row(
        out,
        "admissions per second, mean until the last admission",
        "%.1f",
        admitted / Math.max(0.001, lastAdmission));
    row(
        out,
        "admissions per second, best 10 s window",
        "%.1f",
        JobTally.bestRate(admissionNanos, Duration.ofSeconds(10).toNanos()));
    row(
        out,
        "time-to-admit from opening, p50 / p99 (condition timestamps, 1 s resolution)",
        "%.0f / %.0f s",
        QueueLoadBench.quantile(toAdmit, 0.5),
        QueueLoadBench.quantile(toAdmit, 0.99));
    percentiles(out, "admission decision round", cycle, "rounds");
    percentiles(out, "reconcile", reconcile, "reconciles");
    row(
        out,
        "operator heap used, highest sample / live after GC, highest",
        "%.0f / %.0f MiB",
        maxHeap / (1 << 20),
        maxLiveAfterGc / (1 << 20));
    // CPU, not wall time, says what the work costs on a machine shared with other builds.
    row(
        out,
        "CPU from opening to the last sample: operator / sandbox, kubelet and this harness",
        "%s / %s s",
        opened == null ? "n/a" : OperatorLoadBench.cpuSeconds(metricsAtOpening, metrics),
        harnessCpu);
    row(
        out,
        "load average (1 min) at start / opening / end",
        "%s / %s / %s",
        loadAtStart,
        loadAtOpening,
        OperatorLoadBench.loadAverage());
    out.flush();
  }

  /** A histogram's p50 and p99 in milliseconds (bucket upper bounds), with its count. */
  private static void percentiles(PrintStream out, String what, Histogram h, String counted) {
    row(
        out,
        what + " p50 / p99 (%.0f " + counted + ")",
        "%.1f / %.1f ms",
        h.count(),
        h.quantile(0.5) * 1000,
        h.quantile(0.99) * 1000);
  }

  private double[] secondsFromOpening(List<Instant> times) {
    Instant from = opened;
    if (from == null) {
      return new double[0];
    }
    double[] s =
        times.stream()
            .mapToDouble(a -> Math.max(0, Duration.between(from, a).toMillis() / 1000.0))
            .toArray();
    Arrays.sort(s);
    return s;
  }

  private static String seconds(double s) {
    return s < 0 ? "not reached" : String.format(Locale.ROOT, "%.1f s", s);
  }

  private static void row(PrintStream out, String metric, String format, Object... args) {
    // The metric's own placeholders come first.
    long inMetric = metric.chars().filter(c -> c == '%').count();
    Object[] m = Arrays.copyOfRange(args, 0, (int) inMetric);
    Object[] v = Arrays.copyOfRange(args, (int) inMetric, args.length);
    out.printf(
        Locale.ROOT,
        "| %s | %s |%n",
        String.format(Locale.ROOT, metric, m),
        String.format(Locale.ROOT, format, v));
  }
}
