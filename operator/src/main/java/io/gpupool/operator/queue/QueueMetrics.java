package io.gpupool.operator.queue;

import io.gpupool.scheduler.queue.Preemption;
import io.gpupool.scheduler.queue.QueueUsage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.LinkedHashMap;
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
  private final KeptGauges pending;
  private final KeptGauges admitted;
  private final KeptGauges inUse;
  private final KeptGauges borrowed;
  private final KeptGauges oldest;
  private final Timer cycle;

  public QueueMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.pending =
        new KeptGauges(
            registry, "gpupool.queue.pending.workloads", "jobs waiting in a GpuQueue", null);
    this.admitted =
        new KeptGauges(
            registry, "gpupool.queue.admitted.workloads", "jobs holding quota of a GpuQueue", null);
    this.inUse =
        new KeptGauges(
            registry,
            "gpupool.queue.gpus.in.use",
            "GPUs held by a GpuQueue's admitted jobs, per flavor",
            null);
    this.borrowed =
        new KeptGauges(
            registry,
            "gpupool.queue.gpus.borrowed",
            "GPUs a GpuQueue holds beyond its nominal quota, per flavor",
            null);
    this.oldest =
        new KeptGauges(
            registry,
            "gpupool.queue.oldest.pending.created",
            "creation time of a GpuQueue's oldest pending job (seconds since epoch)",
            "seconds");
    this.cycle =
        Timer.builder("gpupool.queue.admission.cycle")
            .description("time one admission decision over all queues takes")
            .publishPercentileHistogram()
            .register(registry);
  }

  void usage(List<QueueUsage> queues) {
    Map<Tags, Long> p = new LinkedHashMap<>();
    Map<Tags, Long> a = new LinkedHashMap<>();
    Map<Tags, Long> u = new LinkedHashMap<>();
    Map<Tags, Long> b = new LinkedHashMap<>();
    for (QueueUsage q : queues) {
      Tags tags = Tags.of("queue", q.queue());
      p.put(tags, (long) q.pending());
      a.put(tags, (long) q.admitted());
      q.inUse().forEach((f, n) -> u.put(tags.and("flavor", f), n.longValue()));
      q.borrowed().forEach((f, n) -> b.put(tags.and("flavor", f), n.longValue()));
    }
    pending.set(p);
    admitted.set(a);
    inUse.set(u);
    borrowed.set(b);
  }

  /**
   * Creation time of each queue's oldest pending job, epoch seconds; queues without any omitted.
   */
  void oldestPending(Map<String, Long> createdEpochSeconds) {
    Map<Tags, Long> rows = new LinkedHashMap<>();
    createdEpochSeconds.forEach((queue, at) -> rows.put(Tags.of("queue", queue), at));
    oldest.set(rows);
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
