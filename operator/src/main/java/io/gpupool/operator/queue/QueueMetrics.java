package io.gpupool.operator.queue;

import io.gpupool.scheduler.queue.Preemption;
import io.gpupool.scheduler.queue.QueueUsage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Per-queue metrics (docs/queues.md): pending and admitted jobs [gpupool_queue_pending_workloads,
 * gpupool_queue_admitted_workloads], GPUs in use and borrowed per flavor
 * [gpupool_queue_gpus_in_use, gpupool_queue_gpus_borrowed], admissions
 * [gpupool_queue_admissions_total], preemptions by reason [gpupool_queue_preemptions_total], time
 * from creation to admission [gpupool_queue_admission_wait_seconds], and how long one admission
 * decision takes [gpupool_queue_admission_cycle_seconds].
 */
@ApplicationScoped
public class QueueMetrics {
  private final MeterRegistry registry;
  private final MultiGauge pending;
  private final MultiGauge admitted;
  private final MultiGauge inUse;
  private final MultiGauge borrowed;
  private final MultiGauge oldest;
  private final Timer cycle;

  public QueueMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.pending =
        MultiGauge.builder("gpupool.queue.pending.workloads")
            .description("jobs waiting in a GpuQueue")
            .register(registry);
    this.admitted =
        MultiGauge.builder("gpupool.queue.admitted.workloads")
            .description("jobs holding quota of a GpuQueue")
            .register(registry);
    this.inUse =
        MultiGauge.builder("gpupool.queue.gpus.in.use")
            .description("GPUs held by a GpuQueue's admitted jobs, per flavor")
            .register(registry);
    this.borrowed =
        MultiGauge.builder("gpupool.queue.gpus.borrowed")
            .description("GPUs a GpuQueue holds beyond its nominal quota, per flavor")
            .register(registry);
    this.oldest =
        MultiGauge.builder("gpupool.queue.oldest.pending.created")
            .description("creation time of a GpuQueue's oldest pending job (seconds since epoch)")
            .baseUnit("seconds")
            .register(registry);
    this.cycle =
        Timer.builder("gpupool.queue.admission.cycle")
            .description("time one admission decision over all queues takes")
            .publishPercentileHistogram()
            .register(registry);
  }

  void usage(List<QueueUsage> queues) {
    List<MultiGauge.Row<?>> p = new ArrayList<>();
    List<MultiGauge.Row<?>> a = new ArrayList<>();
    List<MultiGauge.Row<?>> u = new ArrayList<>();
    List<MultiGauge.Row<?>> b = new ArrayList<>();
    for (QueueUsage q : queues) {
      Tags tags = Tags.of("queue", q.queue());
      p.add(MultiGauge.Row.of(tags, q.pending()));
      a.add(MultiGauge.Row.of(tags, q.admitted()));
      q.inUse().forEach((f, n) -> u.add(MultiGauge.Row.of(tags.and("flavor", f), n)));
      q.borrowed().forEach((f, n) -> b.add(MultiGauge.Row.of(tags.and("flavor", f), n)));
    }
    pending.register(p, true);
    admitted.register(a, true);
    inUse.register(u, true);
    borrowed.register(b, true);
  }

  /**
   * Creation time of each queue's oldest pending job, epoch seconds; queues without any omitted.
   */
  void oldestPending(Map<String, Long> createdEpochSeconds) {
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    createdEpochSeconds.forEach(
        (queue, at) -> rows.add(MultiGauge.Row.of(Tags.of("queue", queue), at)));
    oldest.register(rows, true);
  }

  /** Counters of a new queue start at 0, so that increase() sees its first admission. */
  void queueKnown(String queue) {
    admissions(queue);
    for (Preemption.Reason reason : Preemption.Reason.values()) {
      preemptions(queue, reason);
    }
  }

  private Counter admissions(String queue) {
    return Counter.builder("gpupool.queue.admissions")
        .description("jobs admitted by a GpuQueue")
        .tag("queue", queue)
        .register(registry);
  }

  private Counter preemptions(String queue, Preemption.Reason reason) {
    return Counter.builder("gpupool.queue.preemptions")
        .description("jobs evicted from a GpuQueue's quota for another job")
        .tag("queue", queue)
        .tag("reason", reason.name())
        .register(registry);
  }

  void admitted(String queue, Duration waited) {
    admissions(queue).increment();
    Timer.builder("gpupool.queue.admission.wait")
        .description("time from a job's creation to its admission")
        .tag("queue", queue)
        .publishPercentileHistogram()
        .register(registry)
        .record(waited.isNegative() ? Duration.ZERO : waited);
  }

  void preempted(String queue, Preemption.Reason reason) {
    preemptions(queue, reason).increment();
  }

  void cycle(Duration took) {
    cycle.record(took);
  }
}
