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

  void admitted(String queue, Duration waited) {
    Counter.builder("gpupool.queue.admissions")
        .description("jobs admitted by a GpuQueue")
        .tag("queue", queue)
        .register(registry)
        .increment();
    Timer.builder("gpupool.queue.admission.wait")
        .description("time from a job's creation to its admission")
        .tag("queue", queue)
        .publishPercentileHistogram()
        .register(registry)
        .record(waited.isNegative() ? Duration.ZERO : waited);
  }

  void preempted(String queue, Preemption.Reason reason) {
    Counter.builder("gpupool.queue.preemptions")
        .description("jobs evicted from a GpuQueue's quota for another job")
        .tag("queue", queue)
        .tag("reason", reason.name())
        .register(registry)
        .increment();
  }

  void cycle(Duration took) {
    cycle.record(took);
  }
}
