package io.gpupool.e2e.bench;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.e2e.SandboxAccess;
import io.gpupool.sandbox.pool.PoolSpec;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

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
 * <p>Run: {@code ./gpupool bench-queues [jobs] [nodes] [--max-minutes M]} (docs/benchmarks.md). The
 * jobs are followed by a watch; a progress line every 10 s; the table is printed at the end, at the
 * time limit (default {@value #DEFAULT_MAX_MINUTES} minutes from the start) or when the run is
 * interrupted, with what was measured until then.
 */
public final class QueueLoadBench {
  private QueueLoadBench() {}

  static final int QUEUES = 10;
  static final double TIME_SCALE = 120;
  static final int DEFAULT_MAX_MINUTES = 60;
  private static final Duration POLL = Duration.ofSeconds(2);

  /**
   * Between two progress lines, which also sample the operator's heap: its metrics grow with the
   * jobs (a throughput gauge per job), so they are not read at every poll.
   */
  private static final Duration PROGRESS = Duration.ofSeconds(10);

  /** The command line: positional JOBS and NODES, and {@code --max-minutes M}. */
  record Options(int jobs, int nodes, Duration limit) {
    static Options parse(String... args) {
      List<String> positional = new ArrayList<>();
      Duration limit = Duration.ofMinutes(DEFAULT_MAX_MINUTES);
      for (int i = 0; i < args.length; i++) {
        if (args[i].equals("--max-minutes")) {
          if (i + 1 >= args.length) {
            throw new IllegalArgumentException("--max-minutes needs a number of minutes");
          }
          double minutes = Double.parseDouble(args[++i]);
          if (!(minutes > 0)) {
            throw new IllegalArgumentException("--max-minutes must be positive, not " + args[i]);
          }
          limit = Duration.ofMillis(Math.round(minutes * 60_000));
        } else if (args[i].startsWith("-")) {
          throw new IllegalArgumentException(
              "unknown option " + args[i] + " (usage: [JOBS] [NODES] [--max-minutes M])");
        } else {
          positional.add(args[i]);
        }
      }
      if (positional.size() > 2) {
        throw new IllegalArgumentException(
            "at most JOBS and NODES, not "
                + positional
                + " (usage: [JOBS] [NODES] [--max-minutes M])");
      }
      int jobs = positional.size() > 0 ? Integer.parseInt(positional.get(0)) : 10_000;
      int nodes = positional.size() > 1 ? Integer.parseInt(positional.get(1)) : 5_000;
      return new Options(jobs, nodes, limit);
    }
  }

  public static void main(String[] args) throws Exception {
    Options options = Options.parse(args);
    int jobs = options.jobs();
    int nodes = options.nodes();
    long deadline = System.nanoTime() + options.limit().toNanos();
    // The target is a heap of at most 1 GiB: the operator gets that much, no more.
    if (System.getProperty("gpupool.operator.jvmOptions") == null) {
      System.setProperty("gpupool.operator.jvmOptions", "-Xmx1g");
    }
    long harnessCpuAtStart = OperatorLoadBench.ownCpuNanos();
    PoolSpec pool = PoolGenerator.generate(nodes);
    Map<String, Integer> gpus = PoolGenerator.gpusByFlavor(pool);
    QueueRunReport report = new QueueRunReport(jobs, nodes, gpus, OperatorLoadBench.loadAverage());
    System.err.printf(
        "pool: %d nodes, GPUs by flavor %s; time limit %s%n", nodes, gpus, options.limit());
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    long t0 = System.nanoTime();
    SandboxAccess cluster = SandboxAccess.start("bench-queues", port, TIME_SCALE, pool);
    AtomicBoolean closed = new AtomicBoolean();
    Runnable close =
        () -> {
          if (closed.compareAndSet(false, true)) {
            cluster.close(); // the operator is a child process: never left running
          }
        };
    // Interrupted (Ctrl-C, kill): the table of what was measured so far, then the cluster down.
    Thread onExit =
        new Thread(
            () -> {
              report.stoppedBecause = "interrupted";
              report.sample(scrapeOrEmpty(port));
              report.printOnce(System.out, harnessCpu(report, harnessCpuAtStart));
              close.run();
            },
            "bench-queues-interrupted");
    Runtime.getRuntime().addShutdownHook(onExit);
    exitOnSignals();
    try {
      System.err.printf("sandbox and operator up in %.1f s%n", (System.nanoTime() - t0) / 1e9);
      run(cluster.client(), jobs, gpus, port, deadline, report);
    } catch (Exception | Error e) {
      report.stoppedBecause = "stopped by an error: " + e;
      throw e;
    } finally {
      report.printOnce(System.out, harnessCpu(report, harnessCpuAtStart));
      close.run();
      try {
        Runtime.getRuntime().removeShutdownHook(onExit);
      } catch (IllegalStateException exiting) {
        // the hook is running already
      }
    }
  }

  /**
   * Creates the queues (closed) and the jobs, waits until every job waits, opens the quotas and
   * follows the jobs until all finished or the deadline; {@code report} holds what was measured at
   * any point.
   */
  private static void run(
      KubernetesClient client,
      int jobs,
      Map<String, Integer> gpus,
      int port,
      long deadline,
      QueueRunReport report)
      throws Exception {
    JobTally tally = new JobTally();
    report.tally = tally;
    // Followed by a watch, not by listing every job every 2 s: at 10,000 jobs that list kept the
    // sandbox's API server busy serialising them and finally timed out (docs/benchmarks.md).
    try (SharedIndexInformer<TrainingJob> followed =
        client.resources(TrainingJob.class).inAnyNamespace().inform(tally)) {
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
      report.createSeconds = (System.nanoTime() - createStart) / 1e9;
      if (!awaitAllWaiting(tally, jobs, deadline)) {
        report.stoppedBecause = "time limit, before every job was seen waiting (quotas not opened)";
        return;
      }
      report.loadAtOpening = OperatorLoadBench.loadAverage();
      report.metricsAtOpening = scrapeOrEmpty(port);
      report.harnessCpuAtOpening = OperatorLoadBench.ownCpuNanos();
      report.openNanos = System.nanoTime();
      report.opened = Instant.now();
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
      follow(tally, jobs, port, deadline, report);
      report.sample(scrapeOrEmpty(port));
    }
  }

  /**
   * Takes SIGINT and SIGTERM back for the JVM: starting the cluster loads helm-java, whose Go
   * runtime installs its own handlers for them, after which a Ctrl-C or a {@code kill} did not run
   * the JVM's shutdown hooks at all (the harness kept running, the table was never printed).
   * Reinstalled here, they exit through the hooks as a JVM normally does.
   */
  @SuppressWarnings("removal")
  private static void exitOnSignals() {
    for (String name : List.of("INT", "TERM")) {
      try {
        sun.misc.Signal.handle(
            new sun.misc.Signal(name), signal -> System.exit(128 + signal.getNumber()));
      } catch (IllegalArgumentException refused) {
        System.err.println("SIG" + name + " not taken back: " + refused.getMessage());
      }
    }
  }

  /** This JVM's CPU (sandbox, kubelet, harness) since the opening, else since the start. */
  private static String harnessCpu(QueueRunReport report, long cpuAtStart) {
    long from = report.opened == null ? cpuAtStart : report.harnessCpuAtOpening;
    return String.format(Locale.ROOT, "%.1f", (OperatorLoadBench.ownCpuNanos() - from) / 1e9);
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
                  System.err.printf("%d created%n", n);
                }
              }));
    }
    try {
      for (Future<?> f : futures) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * Every job has been seen by the operator and waits (Inadmissible while quotas are 0); false at
   * the deadline.
   */
  private static boolean awaitAllWaiting(JobTally tally, int jobs, long deadline)
      throws InterruptedException {
    long nextLine = 0;
    while (System.nanoTime() < deadline) {
      int waiting = tally.waiting();
      if (waiting >= jobs || System.nanoTime() >= nextLine) {
        System.err.printf("%d/%d waiting%n", waiting, jobs);
        nextLine = System.nanoTime() + PROGRESS.toNanos();
      }
      if (waiting >= jobs) {
        return true;
      }
      Thread.sleep(POLL.toMillis());
    }
    return false;
  }

  /**
   * Until every job finished or the deadline: a progress line and a heap sample every {@link
   * #PROGRESS}; the counts come from the watch ({@link JobTally}), nothing here grows with the
   * jobs.
   */
  private static void follow(
      JobTally tally, int jobs, int port, long deadline, QueueRunReport report)
      throws InterruptedException {
    long openNanos = report.openNanos;
    long nextLine = 0;
    while (true) {
      long nowNanos = System.nanoTime();
      double now = (nowNanos - openNanos) / 1e9;
      int admitted = tally.admitted();
      int finished = tally.finished();
      int failed = tally.failed();
      if (report.allAdmitted < 0 && admitted >= jobs) {
        report.allAdmitted = now;
      }
      boolean done = finished + failed >= jobs;
      if (done) {
        report.allFinished = now;
        report.stoppedBecause =
            failed == 0 ? "every job finished" : "every job succeeded or failed";
      }
      if (done || nowNanos >= nextLine) {
        report.sample(scrapeOrEmpty(port));
        System.err.printf(
            Locale.ROOT,
            "%.0f s after opening: %d admitted, %d finished, %d failed; operator heap %.0f MiB"
                + " (highest), load %s%n",
            now,
            admitted,
            finished,
            failed,
            report.maxHeap / (1 << 20),
            OperatorLoadBench.loadAverage());
        nextLine = nowNanos + PROGRESS.toNanos();
      }
      if (done) {
        return;
      }
      if (nowNanos >= deadline) {
        report.stoppedBecause = "time limit";
        return;
      }
      Thread.sleep(POLL.toMillis());
    }
  }

  /** The operator's metrics, or empty when they cannot be read (a stopping operator). */
  private static String scrapeOrEmpty(int port) {
    try {
      return OperatorLoadBench.scrape(port);
    } catch (Exception e) {
      System.err.println("operator metrics not read: " + e);
      return "";
    }
  }

  static double quantile(double[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
  }
}
