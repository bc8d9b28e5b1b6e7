package io.gpupool.operator.metrics;

import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Job and reconcile metrics, named as docs/observability.md lists them (Prometheus names in
 * brackets): jobs by kind and phase [gpupool_jobs], queue wait [gpupool_job_queue_wait_seconds],
 * scheduling latency [gpupool_scheduling_latency_seconds], estimated throughput
 * [gpupool_job_estimated_throughput], restarts [gpupool_job_restarts_total], recoveries
 * [gpupool_job_recoveries_total], reconcile duration and errors.
 */
@ApplicationScoped
// Created at start-up, not on the first reconcile, so the series pre-registered at 0 exist before
// anything happens: increase() cannot see an event that a counter's first scrape already holds.
@Startup
public class JobMetrics {
  private final MeterRegistry registry;
  private final Map<String, String> phaseByJob = new ConcurrentHashMap<>();
  private final Map<String, Double> throughputByJob = new ConcurrentHashMap<>();
  private final MultiGauge jobs;
  private final MultiGauge throughput;

  /** The phases of each kind, as the CRDs define them. */
  static final Map<String, List<String>> PHASES =
      Map.of(
          "TrainingJob", Arrays.stream(TrainingJobPhase.values()).map(Enum::name).toList(),
          "InferenceJob", Arrays.stream(InferenceJobPhase.values()).map(Enum::name).toList());

  /**
   * The restart reasons the reconcilers report, created at 0 up front (others still count, from
   * their first restart on).
   */
  static final Map<String, List<String>> RESTART_REASONS =
      Map.of(
          "TrainingJob",
          List.of("Restarting", "Rescheduled"),
          "InferenceJob",
          List.of("ReplicaFailed"));

  public JobMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.jobs =
        MultiGauge.builder("gpupool.jobs")
            .description("gpupool jobs by kind and phase")
            .register(registry);
    this.throughput =
        MultiGauge.builder("gpupool.job.estimated.throughput")
            .description("samples per second the job's plan is estimated to reach")
            .register(registry);
    refreshJobs();
    // Counters and histograms exist at 0 from the start: a series that first appears at 1 makes
    // increase() and rate() read 0 for its first event (docs/observability.md).
    for (String kind : PHASES.keySet()) {
      recoveries(kind);
      queueWaitTimer(kind);
      schedulingTimer(kind, "placed");
      schedulingTimer(kind, "unschedulable");
    }
    RESTART_REASONS.forEach((kind, reasons) -> reasons.forEach(r -> restarts(kind, r)));
  }

  /** Records the phase a job is in now; {@code phase == null} forgets the job. */
  public void phase(String kind, String namespace, String name, String phase) {
    String key = kind + "/" + namespace + "/" + name;
    if (phase == null) {
      phaseByJob.remove(key);
      throughputByJob.remove(key);
    } else {
      phaseByJob.put(key, phase);
    }
    refreshJobs();
  }

  public void estimatedThroughput(
      String kind, String namespace, String name, double samplesPerSecond) {
    throughputByJob.put(kind + "/" + namespace + "/" + name, samplesPerSecond);
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    throughputByJob.forEach(
        (key, value) -> {
          String[] p = key.split("/", 3);
          rows.add(MultiGauge.Row.of(Tags.of("kind", p[0], "namespace", p[1], "job", p[2]), value));
        });
    throughput.register(rows, true);
  }

  private void refreshJobs() {
    Map<List<String>, Integer> counts = new HashMap<>();
    // Every phase is exported, 0 when no job is in it, so that "how many failed" reads 0 rather
    // than "no data" (docs/observability.md).
    PHASES.forEach((kind, phases) -> phases.forEach(p -> counts.put(List.of(kind, p), 0)));
    phaseByJob.forEach(
        (key, phase) ->
            counts.merge(List.of(key.substring(0, key.indexOf('/')), phase), 1, Integer::sum));
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    counts.forEach(
        (k, n) -> rows.add(MultiGauge.Row.of(Tags.of("kind", k.get(0), "phase", k.get(1)), n)));
    jobs.register(rows, true);
  }

  public void queueWait(String kind, Duration wait) {
    queueWaitTimer(kind).record(wait);
  }

  private Timer queueWaitTimer(String kind) {
    return Timer.builder("gpupool.job.queue.wait")
        .description("time from creation until a job's gang is first placed")
        .tag("kind", kind)
        .publishPercentileHistogram()
        .register(registry);
  }

  private Timer schedulingTimer(String kind, String result) {
    return Timer.builder("gpupool.scheduling.latency")
        .description("time to plan one placement")
        .tags("kind", kind, "result", result)
        .publishPercentileHistogram()
        .register(registry);
  }

  /** Times a placement attempt. */
  public <T> T schedulingLatency(String kind, Supplier<T> attempt, Predicate<T> placed) {
    long start = System.nanoTime();
    T result = attempt.get();
    schedulingTimer(kind, placed.test(result) ? "placed" : "unschedulable")
        .record(Duration.ofNanos(System.nanoTime() - start));
    return result;
  }

  public void restart(String kind, String reason) {
    restarts(kind, reason).increment();
  }

  public void recovery(String kind) {
    recoveries(kind).increment();
  }

  private Counter restarts(String kind, String reason) {
    return Counter.builder("gpupool.job.restarts")
        .description("gang restarts")
        .tags("kind", kind, "reason", reason)
        .register(registry);
  }

  private Counter recoveries(String kind) {
    return Counter.builder("gpupool.job.recoveries")
        .description("node-loss recoveries")
        .tag("kind", kind)
        .register(registry);
  }

  /** Times one reconcile and counts it as an error when it throws. */
  public <T> T reconcile(String controller, Supplier<T> body) {
    // Registered before the first failure so that the error rate reads 0, not "no data".
    Counter errors =
        Counter.builder("gpupool.reconcile.errors")
            .description("reconciles that threw")
            .tag("controller", controller)
            .register(registry);
    long start = System.nanoTime();
    try {
      return body.get();
    } catch (RuntimeException e) {
      errors.increment();
      throw e;
    } finally {
      Timer.builder("gpupool.reconcile.duration")
          .description("time of one reconcile")
          .tag("controller", controller)
          .publishPercentileHistogram()
          .register(registry)
          .record(Duration.ofNanos(System.nanoTime() - start));
    }
  }

  /**
   * Counts a job woken to re-plan because capacity may have come back ({@code cause}: release,
   * node, provider): a high rate with few placements means pending jobs re-plan in vain.
   */
  public void wakeup(String kind, String cause) {
    registry.counter("gpupool_job_wakeups_total", "kind", kind, "cause", cause).increment();
  }
}
