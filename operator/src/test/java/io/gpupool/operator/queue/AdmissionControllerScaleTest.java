package io.gpupool.operator.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.FlavorQuota;
import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.GpuQueueSpec;
import io.gpupool.api.v1alpha1.GpuRequirements;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.Parallelism;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import io.gpupool.operator.config.ManualClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The operator's admission at the scale of issue #16, without a cluster: {@code bench-queues}' 10
 * GpuQueues of one cohort over three flavors (19,000 GPUs), 10,000 TrainingJobs of its mix created
 * while every quota is 0, then the quotas opened and every job followed until it has ended. Each
 * wake-up is one reconcile, as JOSDK would run it (several wake-ups of one job before it runs count
 * once); a reconcile whose verdict differs from the job's last one is one status write. Prints a
 * table (docs/benchmarks.md, "Admission in the operator") and fails when the work per admission
 * grows with the number of jobs again: CPU time per admission, reconciles and status writes per
 * job.
 */
class AdmissionControllerScaleTest {
  static final int QUEUES = 10;

  /**
   * 2,000 in the unit test (a few seconds of CPU); {@link #main} runs the 10,000 unless
   * {@code -Dgpupool.scale.jobs=N} says otherwise (docs/benchmarks.md).
   */
  private int jobCount = Integer.getInteger("gpupool.scale.jobs", 2_000);

  /** GPUs per flavor of bench-queues' 5,000-node pool (PoolGeneratorTest). */
  static final Map<String, Integer> FLAVORS =
      Map.of("consumer", 4_800, "workstation", 5_400, "datacenter", 8_800);

  static final double TIME_SCALE = 120;

  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();

  /** Simulated time: jumps to the next job end. */
  private final ManualClock clock = new ManualClock("2026-12-06T16:00:00Z");

  private final Set<String> woken = new LinkedHashSet<>();
  private final Map<String, TrainingJob> jobs = new HashMap<>();
  private final Map<String, Verdict> lastVerdict = new HashMap<>();
  private final Map<String, Long> runMillis = new HashMap<>();
  private AdmissionController controller;
  private long reconciles;
  private long statusWrites;
  private final List<Long> decideNanos = new ArrayList<>();
  private final PriorityQueue<Event> events =
      new PriorityQueue<>(
          (a, b) ->
              a.at() != b.at() ? Long.compare(a.at(), b.at()) : Long.compare(a.seq(), b.seq()));
  private final Set<String> running = new HashSet<>();
  private final Set<String> evicting = new HashSet<>();
  private final Set<String> ended = new HashSet<>();
  private final Map<String, Integer> runs = new HashMap<>();
  private long sequence;
  private int admissions;
  private int evictions;

  /** Something due at a simulated instant: a job's end, an eviction's deadline, a deferred task. */
  private record Event(long at, long seq, Runnable action) {}

  private void at(long millis, Runnable action) {
    events.add(new Event(millis, sequence++, action));
  }

  /** The jobs left, with their last verdict and what admission says of them now. */
  private String stuck() {
    StringBuilder out = new StringBuilder();
    jobs.keySet().stream()
        .filter(id -> !ended.contains(id))
        .limit(8)
        .forEach(
            id ->
                out.append("\n")
                    .append(id)
                    .append(running.contains(id) ? " running " : " ")
                    .append(lastVerdict.get(id))
                    .append(" now ")
                    .append(controller.decide(jobs.get(id))));
    return out.toString();
  }

  /** The admitted job starts; it ends after its run time unless it is evicted first. */
  private void start(String id) {
    running.add(id);
    admissions++;
    int run = runs.merge(id, 1, Integer::sum);
    at(
        clock.millis() + runMillis.get(id),
        () -> {
          if (runs.get(id) == run && running.remove(id)) {
            ended.add(id);
            controller.ended(jobs.get(id));
          }
        });
  }

  /** The eviction's deadline: the pods are removed, the job goes back to its queue. */
  private void evicted(String id) {
    evicting.remove(id);
    if (running.remove(id)) {
      runs.merge(id, 1, Integer::sum);
      evictions++;
      controller.evictionDone(jobs.get(id));
    }
  }

  /** Prints the table without JUnit: {@code java -cp <test classpath> ...ScaleTest}. */
  public static void main(String[] args) {
    AdmissionControllerScaleTest run = new AdmissionControllerScaleTest();
    run.jobCount = Integer.getInteger("gpupool.scale.jobs", 10_000);
    run.tenThousandJobsOverTenQueuesAreAdmittedWithBoundedWorkPerAdmission();
  }

  @Test
  void tenThousandJobsOverTenQueuesAreAdmittedWithBoundedWorkPerAdmission() {
    controller =
        new AdmissionController(
            name -> OptionalInt.empty(),
            ns -> Map.of(),
            new QueueMetrics(new SimpleMeterRegistry()),
            clock);
    controller.onWake(woken::add);
    controller.refreshPositionsWith((task, after) -> at(clock.millis() + after.toMillis(), task));
    java.util.logging.Logger.getLogger(AdmissionController.class.getName())
        .setLevel(java.util.logging.Level.WARNING); // one line per eviction otherwise
    for (int q = 0; q < QUEUES; q++) {
      controller.putQueue(queue(q, 0));
    }
    Random r = new Random(16);
    for (int i = 0; i < jobCount; i++) {
      TrainingJob job = job(i, r);
      jobs.put(JobWorkloads.id(job), job);
    }

    // Arrivals: every job's first reconcile, while the quotas are 0.
    long cpu0 = cpu();
    for (TrainingJob job : jobs.values()) {
      reconcile(job);
    }
    drainWakes();
    while (!events.isEmpty()) {
      events.poll().action().run();
      drainWakes();
    }
    double arrivalCpu = (cpu() - cpu0) / 1e9;
    long arrivalReconciles = reconciles;
    long arrivalWrites = statusWrites;
    assertThat(lastVerdict.values()).allMatch(v -> v instanceof Verdict.Inadmissible);

    // Opening: each queue's quota, then follow every job until it has ended.
    reconciles = 0;
    statusWrites = 0;
    decideNanos.clear();
    long cpu1 = cpu();
    for (int q = 0; q < QUEUES; q++) {
      controller.putQueue(queue(q, -1));
    }
    while (ended.size() < jobCount) {
      for (String id : drainWakes()) {
        Verdict v = lastVerdict.get(id);
        if (!running.contains(id) && v instanceof Verdict.Admitted) {
          start(id);
        } else if (running.contains(id) && v instanceof Verdict.Evicted e && evicting.add(id)) {
          at(e.deadline().toEpochMilli(), () -> evicted(id));
        }
      }
      Event next = events.poll();
      assertThat(next)
          .as("something happens while %d have not ended: %s", jobCount - ended.size(), stuck())
          .isNotNull();
      clock.now = Instant.ofEpochMilli(Math.max(clock.millis(), next.at()));
      next.action().run();
    }
    double followCpu = (cpu() - cpu1) / 1e9;
    long[] sorted = decideNanos.stream().mapToLong(Long::longValue).sorted().toArray();

    List<String[]> rows = new ArrayList<>();
    rows.add(
        row(
            "arrivals (quotas 0): reconciles / status writes / CPU",
            "%d / %d / %.2f s",
            arrivalReconciles,
            arrivalWrites,
            arrivalCpu));
    rows.add(
        row(
            "admissions (again after an eviction included) / evictions",
            "%d / %d",
            admissions,
            evictions));
    rows.add(
        row(
            "after opening: reconciles / status writes per job",
            "%.2f / %.2f",
            reconciles / (double) jobCount,
            statusWrites / (double) jobCount));
    rows.add(
        row(
            "after opening: CPU of admission in all / per admission",
            "%.2f s / %.3f ms",
            followCpu,
            followCpu * 1000 / admissions));
    rows.add(row("admissions per CPU second", "%.0f", admissions / followCpu));
    rows.add(
        row(
            "one reconcile's admission call p50 / p99 / max (wall)",
            "%.3f / %.3f / %.1f ms",
            quantile(sorted, 0.5) / 1e6,
            quantile(sorted, 0.99) / 1e6,
            sorted[sorted.length - 1] / 1e6));
    System.out.printf("| AdmissionController, %,d jobs, 10 queues | value |%n", jobCount);
    System.out.println("|---|---|");
    rows.forEach(rw -> System.out.println("| " + rw[0] + " | " + rw[1] + " |"));

    assertThat(ended).hasSize(jobCount);
    // Per-job bounds: linear work per admission would make these grow with jobCount.
    assertThat(arrivalReconciles).as("reconciles while quotas are 0").isLessThan(2L * jobCount);
    assertThat(reconciles).as("reconciles after opening").isLessThan(6L * jobCount);
    assertThat(statusWrites).as("status writes after opening").isLessThan(4L * jobCount);
    // CPU, not wall: other processes share the machine. 10 ms per admission is 100 admissions/s
    // of one core; generous against the figure measured (docs/benchmarks.md).
    assertThat(followCpu * 1000 / admissions).as("CPU ms per admission").isLessThan(10);
    assertThat(arrivalCpu * 1000 / jobCount).as("CPU ms per arrival").isLessThan(10);
  }

  /** Reconciles every woken job (and what those reconciles wake) until none is left. */
  private List<String> drainWakes() {
    List<String> all = new ArrayList<>();
    while (!woken.isEmpty()) {
      List<String> batch = new ArrayList<>(woken);
      woken.clear();
      for (String id : batch) {
        TrainingJob job = jobs.get(id);
        if (job != null) {
          reconcile(job);
          all.add(id);
        }
      }
    }
    return all;
  }

  private void reconcile(TrainingJob job) {
    String id = JobWorkloads.id(job);
    reconciles++;
    Verdict v;
    long t = System.nanoTime();
    if (running.contains(id)) {
      v = controller.holding(job, null);
    } else {
      v = controller.decide(job);
      if (v instanceof Verdict.Evicted) {
        // Evicted before it was placed: no pods to wait for (QueueHook.admit).
        controller.evictionDone(job);
        evictions++;
        v = controller.decide(job);
      }
    }
    decideNanos.add(System.nanoTime() - t);
    if (!v.equals(lastVerdict.put(id, v))) {
      statusWrites++;
    }
  }

  private long cpu() {
    return threads.getCurrentThreadCpuTime();
  }

  private static String[] row(String metric, String format, Object... args) {
    return new String[] {metric, String.format(Locale.ROOT, format, args)};
  }

  private static double quantile(long[] sorted, double q) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
  }

  /** Queue {@code q} of cohort bench: a tenth of each flavor ({@code nominal} 0 keeps it shut). */
  GpuQueue queue(int q, int nominal) {
    GpuQueue g = new GpuQueue();
    g.setMetadata(new ObjectMetaBuilder().withName(ns(q)).withGeneration(1L).build());
    g.setSpec(new GpuQueueSpec());
    g.getSpec().cohort = "bench";
    g.getSpec().namespaces = List.of(ns(q));
    List<FlavorQuota> quotas = new ArrayList<>();
    for (var f : FLAVORS.entrySet()) {
      FlavorQuota quota = new FlavorQuota();
      quota.name = f.getKey();
      quota.products = products(f.getKey());
      // The pool grows with the jobs, as bench-queues' (5,000 nodes for 10,000 jobs).
      quota.nominal =
          nominal < 0 ? (int) ((long) f.getValue() * jobCount / 10_000 / QUEUES) : nominal;
      quotas.add(quota);
    }
    g.getSpec().quotas = quotas;
    return g;
  }

  static String ns(int q) {
    return "bench-team-" + q;
  }

  static List<String> products(String flavor) {
    return switch (flavor) {
      case "consumer" -> List.of("NVIDIA-GeForce-RTX-4090", "NVIDIA-GeForce-RTX-3090");
      case "workstation" -> List.of("NVIDIA-RTX-A6000", "NVIDIA-L4", "NVIDIA-A10", "NVIDIA-L40S");
      default -> List.of("NVIDIA-A100-SXM4-40GB", "NVIDIA-A100-SXM4-80GB", "NVIDIA-H100-80GB-HBM3");
    };
  }

  /** The mix of {@code bench-queues}: sizes 1–16 GPUs, three flavors, half with a deadline. */
  private TrainingJob job(int i, Random r) {
    double s = r.nextDouble();
    int size = s < 0.55 ? 1 : s < 0.70 ? 2 : s < 0.85 ? 4 : s < 0.95 ? 8 : 16;
    double f = r.nextDouble();
    String flavor = f < 0.40 ? "consumer" : f < 0.65 ? "workstation" : "datacenter";
    int perWorker = Math.min(size, flavor.equals("consumer") ? 4 : 8);
    int run = (int) Math.round(60 * Math.pow(60, r.nextDouble()));
    boolean deadline = r.nextBoolean();
    TrainingJob job = new TrainingJob();
    job.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(ns(i % QUEUES))
            .withName("job-" + i)
            .withCreationTimestamp(Instant.ofEpochSecond(1_796_000_000L + i / 50).toString())
            .build());
    TrainingJobSpec spec = new TrainingJobSpec();
    spec.parallelism = new Parallelism();
    spec.parallelism.workers = size / perWorker;
    spec.parallelism.gpusPerWorker = perWorker;
    spec.model = new ModelSpec();
    spec.resources = new GpuRequirements();
    spec.resources.gpuModels = products(flavor);
    if (deadline) {
      spec.activeDeadlineSeconds = (long) (3 * run / TIME_SCALE) + 300;
    }
    job.setSpec(spec);
    runMillis.put(JobWorkloads.id(job), (long) (run * 1000 / TIME_SCALE));
    return job;
  }
}
