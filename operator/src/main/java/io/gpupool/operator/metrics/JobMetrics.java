package io.gpupool.operator.metrics;

import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
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
  // One gauge per (kind, phase) over a counter kept by phase(), and one per job's throughput:
  // a phase change costs O(1). Re-registering a MultiGauge from every job on every change cost
  // O(jobs) per reconcile (a fifth of the reconcile thread's samples at 1,000 jobs).
  private final Map<List<String>, AtomicInteger> jobsByPhase = new ConcurrentHashMap<>();
  private final Map<String, Gauge> throughputGauges = new ConcurrentHashMap<>();
  private final Map<String, AtomicReference<Double>> throughputByJob = new ConcurrentHashMap<>();

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
    // Every phase is exported, 0 when no job is in it, so that "how many failed" reads 0 rather
    // than "no data" (docs/observability.md).
    PHASES.forEach((kind, phases) -> phases.forEach(p -> jobsIn(kind, p)));
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
    String before = phase == null ? phaseByJob.remove(key) : phaseByJob.put(key, phase);
    if (phase == null) {
      forgetThroughput(key);
    }
    if (Objects.equals(before, phase)) {
      return;
    }
    if (before != null) {
      jobsIn(kind, before).decrementAndGet();
    }
    if (phase != null) {
      jobsIn(kind, phase).incrementAndGet();
    }
  }

  public void estimatedThroughput(
      String kind, String namespace, String name, double samplesPerSecond) {
    String key = kind + "/" + namespace + "/" + name;
    throughputByJob
        .computeIfAbsent(
            key,
            k -> {
              AtomicReference<Double> value = new AtomicReference<>(samplesPerSecond);
              throughputGauges.put(
                  k,
                  Gauge.builder("gpupool.job.estimated.throughput", value, AtomicReference::get)
                      .description("samples per second the job's plan is estimated to reach")
                      .tags("kind", kind, "namespace", namespace, "job", name)
                      .register(registry));
              return value;
            })
        .set(samplesPerSecond);
  }

  private void forgetThroughput(String key) {
    throughputByJob.remove(key);
    Gauge gauge = throughputGauges.remove(key);
    if (gauge != null) {
      registry.remove(gauge);
    }
  }

  /** The count of {@code kind}'s jobs in {@code phase}, its gauge registered on first use. */
  private AtomicInteger jobsIn(String kind, String phase) {
    return jobsByPhase.computeIfAbsent(
        List.of(kind, phase),
        k -> {
          AtomicInteger count = new AtomicInteger();
          Gauge.builder("gpupool.jobs", count, AtomicInteger::get)
              .description("gpupool jobs by kind and phase")
              .tags("kind", kind, "phase", phase)
              .register(registry);
          return count;
        });
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
