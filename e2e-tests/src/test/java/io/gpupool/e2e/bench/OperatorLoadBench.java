package io.gpupool.e2e.bench;

import com.sun.management.OperatingSystemMXBean;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.e2e.SandboxAccess;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Applies N TrainingJobs to the sandbox (default pool, packaged operator) and measures how long
 * until every job is decided — Running, or Pending with an Unschedulable reason — plus the
 * operator's reconcile latency percentiles and heap, read from its own metrics endpoint.
 *
 * <p>Run: {@code ./gpupool bench-operator [jobs]} (see docs/benchmarks.md).
 */
public final class OperatorLoadBench {
  private OperatorLoadBench() {}

  private static final HttpClient METRICS_CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public static void main(String[] args) throws Exception {
    int jobs = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    try (var cluster = SandboxAccess.start("bench", port)) {
      KubernetesClient client = cluster.client();
      String template = jobTemplate();
      String warm = warmUp(client, template, port);
      System.err.printf("applying %d TrainingJobs...%n", jobs);
      String loadAtStart = loadAverage();
      long cpuAtStart = ownCpuNanos();
      long start = System.nanoTime();
      for (int i = 0; i < jobs; i++) {
        TrainingJob job =
            Serialization.unmarshal(template.replace("NAME", "bench-" + i), TrainingJob.class);
        client.resource(job).create();
      }
      long applied = System.nanoTime();
      Map<String, Long> decidedAt = new HashMap<>();
      long deadline = start + Duration.ofMinutes(10).toNanos();
      while (decidedAt.size() < jobs && System.nanoTime() < deadline) {
        for (TrainingJob j :
            client.resources(TrainingJob.class).inNamespace("default").list().getItems()) {
          if (!decidedAt.containsKey(j.getMetadata().getName()) && decided(j)) {
            decidedAt.put(j.getMetadata().getName(), System.nanoTime());
          }
        }
        System.err.printf("\r%d/%d decided", decidedAt.size(), jobs);
        Thread.sleep(250);
      }
      System.err.println();
      long last = decidedAt.values().stream().mapToLong(Long::longValue).max().orElse(deadline);
      long sandboxCpu = ownCpuNanos() - cpuAtStart;
      long running =
          client.resources(TrainingJob.class).inNamespace("default").list().getItems().stream()
              .filter(j -> j.getStatus() != null && j.getStatus().phase == TrainingJobPhase.Running)
              .count();
      String metrics = scrape(port);
      Histogram all =
          Histogram.parse(
              metrics, "gpupool_reconcile_duration_seconds", "controller=\"trainingjob\"");
      Histogram reconcile =
          all.minus(
              Histogram.parse(
                  warm, "gpupool_reconcile_duration_seconds", "controller=\"trainingjob\""));
      double heapUsed = sum(metrics, "jvm_memory_used_bytes", "area=\"heap\"");
      Histogram planning =
          Histogram.parse(metrics, "gpupool_scheduling_latency_seconds", "kind=\"TrainingJob\"");
      Histogram gangCreate = Histogram.parse(metrics, "gpupool_gang_create_duration_seconds", "");

      System.out.println("| metric | value |");
      System.out.println("|---|---|");
      System.out.printf(
          Locale.ROOT,
          "| jobs applied | %d (apply took %.1f s) |%n",
          jobs,
          (applied - start) / 1e9);
      System.out.printf(
          Locale.ROOT, "| decided (Running or Pending with reason) | %d |%n", decidedAt.size());
      System.out.printf(
          Locale.ROOT, "| running / pending | %d / %d |%n", running, decidedAt.size() - running);
      System.out.printf(
          Locale.ROOT, "| time until every job decided | %.1f s |%n", (last - start) / 1e9);
      System.out.printf(Locale.ROOT, "| reconciles | %.0f |%n", reconcile.count());
      System.out.printf(
          Locale.ROOT, "| reconcile p50 | %.1f ms |%n", reconcile.quantile(0.50) * 1000);
      System.out.printf(
          Locale.ROOT, "| reconcile p99 | %.1f ms |%n", reconcile.quantile(0.99) * 1000);
      System.out.printf(
          Locale.ROOT,
          "| reconcile p50 / p99 including the %d warm-up jobs and JIT warm-up | %.1f / %.1f ms |%n",
          WARM_UP_JOBS,
          all.quantile(0.50) * 1000,
          all.quantile(0.99) * 1000);
      System.out.printf(
          Locale.ROOT,
          "| placement decision (ledger lock wait + planning) p50 / p99 | %.1f / %.1f ms |%n",
          planning.quantile(0.50) * 1000,
          planning.quantile(0.99) * 1000);
      System.out.printf(
          Locale.ROOT,
          "| gang creation off the reconcile thread p50 / p99 (%.0f gangs) | %.1f / %.1f ms |%n",
          gangCreate.count(),
          gangCreate.quantile(0.50) * 1000,
          gangCreate.quantile(0.99) * 1000);
      System.out.printf(
          Locale.ROOT,
          "| jobs woken to re-plan (release / node / provider) | %.0f / %.0f / %.0f |%n",
          sum(metrics, "gpupool_job_wakeups_total", "cause=\"release\""),
          sum(metrics, "gpupool_job_wakeups_total", "cause=\"node\""),
          sum(metrics, "gpupool_job_wakeups_total", "cause=\"provider\""));
      System.out.printf(Locale.ROOT, "| operator heap used | %.0f MiB |%n", heapUsed / (1 << 20));
      // CPU, not wall time, says what the work costs on a machine shared with other builds.
      System.out.printf(
          Locale.ROOT,
          "| CPU during the measured batch: operator / sandbox and load client | %s / %.1f s |%n",
          cpuSeconds(warm, metrics),
          sandboxCpu / 1e9);
      System.out.printf(
          Locale.ROOT, "| load average at start / end | %s / %s |%n", loadAtStart, loadAverage());
    }
  }

  /** Jobs run through the operator (placed, then deleted) before the measured batch. */
  static final int WARM_UP_JOBS = 16;

  /**
   * Warms the operator's code paths (placement, gang creation, unschedulable, deletion) the way a
   * long-running operator is warm, and returns its metrics afterwards so the measured batch can be
   * told apart from JIT and class-loading costs. The full-run figures are printed too.
   */
  private static String warmUp(KubernetesClient client, String template, int port)
      throws Exception {
    System.err.printf("warming up with %d jobs...%n", WARM_UP_JOBS);
    for (int i = 0; i < WARM_UP_JOBS; i++) {
      client
          .resource(
              Serialization.unmarshal(template.replace("NAME", "warmup-" + i), TrainingJob.class))
          .create();
    }
    long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
    while (System.nanoTime() < deadline
        && client.resources(TrainingJob.class).inNamespace("default").list().getItems().stream()
                .filter(OperatorLoadBench::decided)
                .count()
            < WARM_UP_JOBS) {
      Thread.sleep(250);
    }
    client.resources(TrainingJob.class).inNamespace("default").delete();
    while (System.nanoTime() < deadline
        && (!client.resources(TrainingJob.class).inNamespace("default").list().getItems().isEmpty()
            || !client
                .pods()
                .inNamespace("default")
                .withLabel("gpupool.io/job-kind", "TrainingJob")
                .list()
                .getItems()
                .isEmpty())) {
      Thread.sleep(250);
    }
    return scrape(port);
  }

  /** CPU time of this JVM (the sandbox API server, its kubelet and the load client). */
  static long ownCpuNanos() {
    return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** The operator's CPU seconds between two scrapes ({@code process_cpu_time}), or "n/a". */
  static String cpuSeconds(String before, String after) {
    double a = processCpu(before);
    double b = processCpu(after);
    boolean nanos = after.contains("process_cpu_time_ns");
    return b == 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", (b - a) / (nanos ? 1e9 : 1));
  }

  private static double processCpu(String metrics) {
    return metrics
        .lines()
        .filter(l -> l.startsWith("process_cpu_time"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException e) {
      return "n/a";
    }
  }

  /**
   * The operator's {@code /q/metrics}. One client for every scrape: a new one each time starts a
   * selector thread of its own.
   */
  static String scrape(int port) throws Exception {
    return METRICS_CLIENT
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/metrics"))
                .timeout(Duration.ofSeconds(30))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  private static boolean decided(TrainingJob j) {
    if (j.getStatus() == null || j.getStatus().phase == null) {
      return false;
    }
    if (j.getStatus().phase == TrainingJobPhase.Running) {
      return true;
    }
    return j.getStatus().phase == TrainingJobPhase.Pending
        && j.getStatus().conditions.stream()
            .anyMatch(
                c -> "Scheduled".equals(c.getType()) && "Unschedulable".equals(c.getReason()));
  }

  private static String jobTemplate() {
    return """
        apiVersion: gpupool.io/v1alpha1
        kind: TrainingJob
        metadata:
          name: NAME
          namespace: default
        spec:
          image: ghcr.io/gpupool/examples/finetune:0.1
          parallelism:
            strategy: DataParallel
            workers: 1
            gpusPerWorker: 1
          model:
            parameters: 1B
            layers: 24
        """;
  }

  /** The sum of the samples of {@code name} (with or without labels) that carry the filter. */
  static double sum(String metrics, String name, String labelFilter) {
    double total = 0;
    for (String line : metrics.lines().toList()) {
      boolean sample = line.startsWith(name + "{") || line.startsWith(name + " ");
      if (sample && line.contains(labelFilter)) {
        total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return total;
  }

  /** A Prometheus histogram read from the text format: cumulative buckets by upper bound. */
  record Histogram(TreeMap<Double, Double> buckets, double count) {
    static Histogram parse(String metrics, String name, String labelFilter) {
      TreeMap<Double, Double> buckets = new TreeMap<>();
      double count = 0;
      for (String line : metrics.lines().toList()) {
        if (line.startsWith("#") || !line.contains(labelFilter)) {
          continue;
        }
        double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        if (line.startsWith(name + "_bucket{")) {
          int le = line.indexOf("le=\"") + 4;
          String bound = line.substring(le, line.indexOf('"', le));
          buckets.merge(
              bound.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bound),
              value,
              Double::sum);
        } else if (line.startsWith(name + "_count{") || line.startsWith(name + "_count ")) {
          count += value;
        }
      }
      return new Histogram(buckets, count);
    }

    /** What was recorded after {@code earlier} was read. */
    Histogram minus(Histogram earlier) {
      TreeMap<Double, Double> diff = new TreeMap<>();
      buckets.forEach((bound, n) -> diff.put(bound, n - earlier.buckets.getOrDefault(bound, 0.0)));
      return new Histogram(diff, count - earlier.count);
    }

    /** Upper bound of the bucket holding quantile {@code q} (a conservative estimate). */
    double quantile(double q) {
      double rank = q * count;
      for (var e : buckets.entrySet()) {
        if (e.getValue() >= rank) {
          return e.getKey();
        }
      }
      return Double.NaN;
    }
  }
}
