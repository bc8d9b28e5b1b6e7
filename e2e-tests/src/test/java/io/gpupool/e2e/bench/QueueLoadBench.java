package io.gpupool.e2e.bench;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.e2e.SandboxAccess;
import io.gpupool.e2e.bench.OperatorLoadBench.Histogram;
import io.gpupool.sandbox.pool.PoolSpec;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Queues at scale: a generated pool ({@link PoolGenerator}, default 5,000 nodes), 10 GpuQueues of
 * one cohort each guaranteed a tenth of every flavor, and N TrainingJobs (default 10,000) of mixed
 * sizes (1–16 GPUs) and run times spread over the queues' namespaces. The jobs are created while
 * every queue's quota is still 0 (all wait, none is placed), then the quotas are opened at once:
 * from then on the operator admits, places and, as the sandbox's kubelet ends the jobs, admits
 * again until every job has finished. Measures the time until all are admitted and finished,
 * admissions per second, time-to-admit p50/p99 (from the opening, from the Admitted condition's
 * transition time), the operator's admission-decision and reconcile percentiles and its heap.
 *
 * <p>Run: {@code ./gpupool bench-queues [jobs] [nodes]} (docs/benchmarks.md).
 */
public final class QueueLoadBench {
  private QueueLoadBench() {}

  static final int QUEUES = 10;
  static final double TIME_SCALE = 120;
  static final Duration LIMIT = Duration.ofMinutes(20);

  public static void main(String[] args) throws Exception {
    int jobs = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int nodes = args.length > 1 ? Integer.parseInt(args[1]) : 5_000;
    // The target is a heap of at most 1 GiB: the operator gets that much, no more.
    if (System.getProperty("gpupool.operator.jvmOptions") == null) {
      System.setProperty("gpupool.operator.jvmOptions", "-Xmx1g");
    }
    String loadAtStart = OperatorLoadBench.loadAverage();
    PoolSpec pool = PoolGenerator.generate(nodes);
    Map<String, Integer> gpus = PoolGenerator.gpusByFlavor(pool);
    System.err.printf("pool: %d nodes, GPUs by flavor %s%n", nodes, gpus);
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    long t0 = System.nanoTime();
    try (var cluster = SandboxAccess.start("bench-queues", port, TIME_SCALE, pool);
        // Followed by a watch, not by listing every job every 2 s: at 10,000 jobs that list kept
        // the sandbox's API server busy serialising them and finally timed out
        // (docs/benchmarks.md).
        SharedIndexInformer<TrainingJob> followed =
            cluster.client().resources(TrainingJob.class).inAnyNamespace().inform()) {
      System.err.printf("sandbox and operator up in %.1f s%n", (System.nanoTime() - t0) / 1e9);
      KubernetesClient client = cluster.client();
      Supplier<List<TrainingJob>> jobsNow = () -> followed.getStore().list();
      for (int q = 0; q < QUEUES; q++) {
        client
            .namespaces()
            .resource(
                new NamespaceBuilder().withNewMetadata().withName(ns(q)).endMetadata().build())
            .create();
        client.resource(queue(q, gpus, 0)).create();
      }
      System.err.printf("creating %d TrainingJobs (quotas closed)...%n", jobs);
      long createStart = System.nanoTime();
      create(client, jobs);
      double createSeconds = (System.nanoTime() - createStart) / 1e9;
      awaitAllWaiting(jobsNow, jobs);

      String loadAtOpening = OperatorLoadBench.loadAverage();
      String metricsAtOpening = scrape(port);
      long harnessCpuAtOpening = OperatorLoadBench.ownCpuNanos();
      Instant opened = Instant.now();
      long openNanos = System.nanoTime();
      for (int q = 0; q < QUEUES; q++) {
        var open = queue(q, gpus, -1).getSpec();
        client
            .resources(GpuQueue.class)
            .withName(ns(q))
            .edit(
                g -> {
                  g.setSpec(open);
                  return g;
                });
      }
      System.err.println("quotas opened");
      Progress p = follow(jobsNow, jobs, port, openNanos);
      String metrics = scrape(port);
      double harnessCpu = (OperatorLoadBench.ownCpuNanos() - harnessCpuAtOpening) / 1e9;
      String loadAtEnd = OperatorLoadBench.loadAverage();

      Histogram cycle = Histogram.parse(metrics, "gpupool_queue_admission_cycle_seconds", "");
      Histogram reconcile =
          Histogram.parse(
              metrics, "gpupool_reconcile_duration_seconds", "controller=\"trainingjob\"");
      List<TrainingJob> all = jobsNow.get();
      double[] toAdmit =
          all.stream()
              .map(j -> admittedAt(j))
              .filter(a -> a != null)
              .mapToDouble(a -> Math.max(0, Duration.between(opened, a).toMillis() / 1000.0))
              .sorted()
              .toArray();
      long succeeded =
          all.stream()
              .filter(
                  j -> j.getStatus() != null && j.getStatus().phase == TrainingJobPhase.Succeeded)
              .count();
      System.out.println("| metric | value |");
      System.out.println("|---|---|");
      row("pool", "%d nodes, GPUs by flavor %s", nodes, gpus);
      row(
          "jobs",
          "%d over %d queues (created in %.1f s while quotas were 0)",
          jobs,
          QUEUES,
          createSeconds);
      row("admitted (Admitted=True seen at least once)", "%d", p.admitted);
      row("finished (Succeeded)", "%d", succeeded);
      row(
          "time from opening the quotas until all admitted",
          "%s",
          p.allAdmitted < 0 ? "not reached" : String.format(Locale.ROOT, "%.1f s", p.allAdmitted));
      row(
          "time until all finished",
          "%s",
          p.allFinished < 0 ? "not reached" : String.format(Locale.ROOT, "%.1f s", p.allFinished));
      row(
          "admissions per second, mean over the run",
          "%.1f",
          p.admitted / Math.max(0.001, p.lastAdmission));
      row("admissions per second, best 10 s window", "%.1f", p.bestWindow);
      row(
          "time-to-admit from opening, p50 / p99 (condition timestamps, 1 s resolution)",
          "%.0f / %.0f s",
          quantile(toAdmit, 0.5),
          quantile(toAdmit, 0.99));
      row(
          "admission decision round p50 / p99 (%.0f rounds)",
          "%.1f / %.1f ms", cycle.count(), cycle.quantile(0.5) * 1000, cycle.quantile(0.99) * 1000);
      row(
          "reconcile p50 / p99 (%.0f reconciles)",
          "%.1f / %.1f ms",
          reconcile.count(),
          reconcile.quantile(0.5) * 1000,
          reconcile.quantile(0.99) * 1000);
      row("operator heap used, highest sample", "%.0f MiB", p.maxHeap / (1 << 20));
      // CPU, not wall time, says what the work costs on a machine shared with other builds.
      row(
          "CPU from opening to the end: operator / sandbox, kubelet and this harness",
          "%s / %.1f s",
          OperatorLoadBench.cpuSeconds(metricsAtOpening, metrics),
          harnessCpu);
      row(
          "load average (1 min) at start / opening / end",
          "%s / %s / %s",
          loadAtStart,
          loadAtOpening,
          loadAtEnd);
    }
  }

  private static void row(String metric, String format, Object... args) {
    // The metric's own placeholders come first.
    long inMetric = metric.chars().filter(c -> c == '%').count();
    Object[] m = Arrays.copyOfRange(args, 0, (int) inMetric);
    Object[] v = Arrays.copyOfRange(args, (int) inMetric, args.length);
    System.out.printf(
        Locale.ROOT,
        "| %s | %s |%n",
        String.format(Locale.ROOT, metric, m),
        String.format(Locale.ROOT, format, v));
  }

  static String ns(int q) {
    return "bench-team-" + q;
  }

  /** Queue {@code q}: a tenth of each flavor ({@code nominal} 0 keeps it closed). */
  private static GpuQueue queue(int q, Map<String, Integer> gpus, int nominal) {
    StringBuilder quotas = new StringBuilder();
    for (var f : gpus.entrySet()) {
      quotas.append(
          """
            - name: %s
              products: [%s]
              nominal: %d
          """
              .formatted(
                  f.getKey(),
                  String.join(", ", PoolGenerator.products(f.getKey())),
                  nominal < 0 ? f.getValue() / QUEUES : nominal));
    }
    return Serialization.unmarshal(
        """
        apiVersion: gpupool.io/v1alpha1
        kind: GpuQueue
        metadata:
          name: %s
        spec:
          cohort: bench
          namespaces: [%s]
          quotas:
        %s"""
            .formatted(ns(q), ns(q), quotas),
        GpuQueue.class);
  }

  /**
   * Mixed sizes (55 % 1 GPU, 15 % 2, 15 % 4, 10 % 8, 5 % 16), flavors (40 % consumer, 25 %
   * workstation, 35 % data centre), run times spread 60–3600 sandbox seconds (0.5–30 s at the
   * bench's time scale); half carry a deadline, which lets admission backfill them.
   */
  static String job(int i, Random r) {
    double s = r.nextDouble();
    int size = s < 0.55 ? 1 : s < 0.70 ? 2 : s < 0.85 ? 4 : s < 0.95 ? 8 : 16;
    double f = r.nextDouble();
    String flavor =
        f < 0.40
            ? PoolGenerator.CONSUMER
            : f < 0.65 ? PoolGenerator.WORKSTATION : PoolGenerator.DATACENTER;
    int perWorker = Math.min(size, PoolGenerator.maxPerNode(flavor));
    int workers = size / perWorker;
    int run = (int) Math.round(60 * Math.pow(60, r.nextDouble()));
    String deadline =
        r.nextBoolean()
            ? "  activeDeadlineSeconds: %d\n".formatted((int) (3 * run / TIME_SCALE) + 300)
            : "";
    return """
        apiVersion: gpupool.io/v1alpha1
        kind: TrainingJob
        metadata:
          name: job-%d
          namespace: %s
        spec:
          image: ghcr.io/gpupool/examples/finetune:0.1
          parallelism:
            strategy: DataParallel
            workers: %d
            gpusPerWorker: %d
          model:
            parameters: 1B
            layers: 24
          resources:
            gpuModels: [%s]
          env:
            - name: SANDBOX_RUN_SECONDS
              value: "%d"
        %s"""
        .formatted(
            i,
            ns(i % QUEUES),
            workers,
            perWorker,
            String.join(", ", PoolGenerator.products(flavor)),
            run,
            deadline);
  }

  /** Creates the jobs with a few clients at once (one client alone is bound by round trips). */
  private static void create(KubernetesClient client, int jobs) throws Exception {
    Random r = new Random(16);
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < jobs; i++) {
      texts.add(job(i, r));
    }
    AtomicInteger done = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Future<?>> futures = new ArrayList<>();
    for (String text : texts) {
      futures.add(
          pool.submit(
              () -> {
                client.resource(Serialization.unmarshal(text, TrainingJob.class)).create();
                int n = done.incrementAndGet();
                if (n % 500 == 0) {
                  System.err.printf("\r%d created", n);
                }
              }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    pool.shutdown();
    System.err.println();
  }

  /** Every job has been seen by the operator and waits (Inadmissible while quotas are 0). */
  private static void awaitAllWaiting(Supplier<List<TrainingJob>> jobsNow, int jobs)
      throws Exception {
    long deadline = System.nanoTime() + LIMIT.toNanos();
    while (System.nanoTime() < deadline) {
      long waiting =
          jobsNow.get().stream()
              .filter(j -> admitted(j) != null && "False".equals(admitted(j).getStatus()))
              .count();
      System.err.printf("\r%d/%d waiting", waiting, jobs);
      if (waiting >= jobs) {
        System.err.println();
        return;
      }
      Thread.sleep(2000);
    }
    throw new IllegalStateException("the operator did not see every job within " + LIMIT);
  }

  private static final class Progress {
    int admitted;
    double allAdmitted = -1;
    double allFinished = -1;
    double lastAdmission;
    double bestWindow;
    double maxHeap;
  }

  /** Polls until every job finished (or the limit): admissions over time, heap samples. */
  private static Progress follow(
      Supplier<List<TrainingJob>> jobsNow, int jobs, int port, long openNanos) throws Exception {
    Progress p = new Progress();
    Map<String, Double> firstAdmitted = new HashMap<>();
    List<double[]> samples = new ArrayList<>(); // (seconds since opening, admitted so far)
    long deadline = openNanos + LIMIT.toNanos();
    while (System.nanoTime() < deadline) {
      List<TrainingJob> all = jobsNow.get();
      double now = (System.nanoTime() - openNanos) / 1e9;
      int finished = 0;
      for (TrainingJob j : all) {
        String name = j.getMetadata().getNamespace() + "/" + j.getMetadata().getName();
        Condition a = admitted(j);
        boolean done = j.getStatus() != null && j.getStatus().phase == TrainingJobPhase.Succeeded;
        if (!firstAdmitted.containsKey(name)
            && (done || (a != null && "True".equals(a.getStatus())))) {
          firstAdmitted.put(name, now);
          p.lastAdmission = now;
        }
        if (done) {
          finished++;
        }
      }
      p.admitted = firstAdmitted.size();
      samples.add(new double[] {now, p.admitted});
      if (p.allAdmitted < 0 && p.admitted >= jobs) {
        p.allAdmitted = now;
      }
      p.maxHeap = Math.max(p.maxHeap, heap(scrape(port)));
      System.err.printf(
          Locale.ROOT, "\r%.0f s: %d admitted, %d finished   ", now, p.admitted, finished);
      if (finished >= jobs) {
        p.allFinished = now;
        break;
      }
      Thread.sleep(2000);
    }
    System.err.println();
    for (int i = 0; i < samples.size(); i++) {
      for (int k = i + 1; k < samples.size(); k++) {
        double span = samples.get(k)[0] - samples.get(i)[0];
        if (span >= 10) {
          p.bestWindow = Math.max(p.bestWindow, (samples.get(k)[1] - samples.get(i)[1]) / span);
          break;
        }
      }
    }
    return p;
  }

  private static Condition admitted(TrainingJob j) {
    if (j.getStatus() == null || j.getStatus().conditions == null) {
      return null;
    }
    return j.getStatus().conditions.stream()
        .filter(c -> "Admitted".equals(c.getType()))
        .findFirst()
        .orElse(null);
  }

  private static Instant admittedAt(TrainingJob j) {
    Condition a = admitted(j);
    boolean admittedNow = a != null && "True".equals(a.getStatus());
    if (admittedNow && a.getLastTransitionTime() != null) {
      return Instant.parse(a.getLastTransitionTime());
    }
    // Finished jobs keep the condition as it was when they ran.
    return null;
  }

  static double quantile(double[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
  }

  private static double heap(String metrics) {
    double total = 0;
    for (String line : metrics.lines().toList()) {
      if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
        total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return total;
  }

  private static String scrape(int port) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/metrics")).build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }
}
