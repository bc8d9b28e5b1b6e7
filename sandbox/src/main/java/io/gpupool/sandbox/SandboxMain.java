package io.gpupool.sandbox;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.sandbox.chain.AnvilMissingException;
import io.gpupool.sandbox.chain.SandboxChain;
import io.gpupool.sandbox.dcgm.SimulatedDcgmExporter;
import io.gpupool.sandbox.kubelet.KubeletSimulator;
import io.gpupool.sandbox.kubelet.ProcessMode;
import io.gpupool.sandbox.pool.PoolFile;
import io.gpupool.sandbox.pool.PoolSpec;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Runs the sandbox until interrupted:
 *
 * <pre>
 * java -cp 'sandbox/target/sandbox-*.jar:sandbox/target/lib/*' io.gpupool.sandbox.SandboxMain \
 *   [--pool FILE] [--port N] [--kubeconfig PATH] [--crds DIR] [--apply DIR]
 *   [--operator-cmd "CMD"] [--time-scale X] [--eviction-timeout SECONDS] [--no-chain]
 *   [--dcgm-port N]
 *   [--smoke [--smoke-timeout SECONDS]]
 * </pre>
 */
public final class SandboxMain {

  static final String USAGE =
      """
      usage: SandboxMain [options]
        --pool FILE              pool file (default: the bundled default pool)
        --port N                 API server port on 127.0.0.1 (default 6443 if free, else any)
        --kubeconfig PATH        where to write the kubeconfig (default .sandbox/kubeconfig)
        --crds DIR               apply every CRD YAML in DIR at start (default crds/ if present)
        --apply DIR              apply these manifests once started (e.g. examples/)
        --operator-cmd "CMD"     start the operator with KUBECONFIG/KUBERNETES_MASTER set; killed on exit
        --time-scale X           sandbox seconds per wall second (default 1)
        --eviction-timeout S     sandbox seconds before pods leave a NotReady node (default 300)
        --no-chain               no billing chain: do not start anvil, the operator runs with
                                 billing disabled (default: anvil on 127.0.0.1, GpuPoolBilling
                                 deployed, example payers funded, operator settling on it)
        --dcgm-port N            simulated dcgm-exporter (/metrics) port on 127.0.0.1
                                 (default 9400 if free, else any)
        --workloads DIR          the reference workloads: pods of their image run as local
                                 processes and DIR's manifests are applied, when python3-torch
                                 is installed (default examples/workloads if present)
        --no-processes           simulate every pod, even the reference workloads
        --smoke                  exit (0) once every applied gpupool job shows a status phase
                                 written by the operator, or (1) after --smoke-timeout seconds
        --smoke-timeout S        wall seconds --smoke waits (default 240)
        --help                   this text
      """;

  /** Parsed command line. */
  record Options(
      Path pool,
      int port,
      Path kubeconfig,
      Path crds,
      Path apply,
      String operatorCmd,
      double timeScale,
      long evictionSeconds,
      boolean chain,
      int dcgmPort,
      Path workloads,
      boolean smoke,
      long smokeTimeoutSeconds) {

    static Options parse(String[] args) {
      Path pool = null;
      Integer port = null;
      Path kubeconfig = Path.of(".sandbox", "kubeconfig");
      Path crds = Files.isDirectory(Path.of("crds")) ? Path.of("crds") : null;
      Path apply = null;
      String operator = null;
      double scale = 1.0;
      long eviction = 300;
      boolean chain = true;
      Integer dcgmPort = null;
      boolean processes = true;
      Path workloads =
          Files.isDirectory(Path.of("examples", "workloads"))
              ? Path.of("examples", "workloads")
              : null;
      boolean smoke = false;
      long smokeTimeout = 240;
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--help") || a.equals("-h")) {
          throw new UsageException(null);
        }
        if (a.equals("--no-chain")) {
          chain = false;
          continue;
        }
        if (a.equals("--no-processes")) {
          processes = false;
          continue;
        }
        if (a.equals("--smoke")) {
          smoke = true;
          continue;
        }
        if (i + 1 >= args.length) {
          throw new UsageException("missing value for " + a);
        }
        String v = args[++i];
        switch (a) {
          case "--pool" -> pool = Path.of(v);
          case "--port" -> port = parseInt(a, v);
          case "--kubeconfig" -> kubeconfig = Path.of(v);
          case "--crds" -> crds = Path.of(v);
          case "--apply" -> apply = Path.of(v);
          case "--operator-cmd" -> operator = v;
          case "--time-scale" -> scale = parseDouble(a, v);
          case "--eviction-timeout" -> eviction = parseInt(a, v);
          case "--dcgm-port" -> dcgmPort = parseInt(a, v);
          case "--workloads" -> workloads = Path.of(v);
          case "--smoke-timeout" -> smokeTimeout = parseInt(a, v);
          default -> throw new UsageException("unknown option " + a);
        }
      }
      if (pool != null && !Files.isRegularFile(pool)) {
        throw new UsageException("no pool file " + pool);
      }
      if (crds != null && !Files.isDirectory(crds)) {
        throw new UsageException("no CRD directory " + crds);
      }
      if (apply != null && !Files.isDirectory(apply)) {
        throw new UsageException("no manifest directory " + apply);
      }
      if (scale <= 0) {
        throw new UsageException("--time-scale must be positive");
      }
      if (smoke && apply == null) {
        throw new UsageException("--smoke needs --apply DIR (the jobs it waits for)");
      }
      if (smokeTimeout <= 0) {
        throw new UsageException("--smoke-timeout must be positive");
      }
      if (dcgmPort != null && (dcgmPort < 0 || dcgmPort > 65535)) {
        throw new UsageException("--dcgm-port must be 0..65535, got " + dcgmPort);
      }
      return new Options(
          pool,
          port == null ? defaultPort() : port,
          kubeconfig,
          crds,
          apply,
          operator,
          scale,
          eviction,
          chain,
          dcgmPort == null ? freePortOr(SimulatedDcgmExporter.DEFAULT_PORT) : dcgmPort,
          processes ? workloads : null,
          smoke,
          smokeTimeout);
    }

    private static int parseInt(String option, String v) {
      try {
        return Integer.parseInt(v);
      } catch (NumberFormatException e) {
        throw new UsageException(option + " needs a number, got " + v);
      }
    }

    private static double parseDouble(String option, String v) {
      try {
        return Double.parseDouble(v);
      } catch (NumberFormatException e) {
        throw new UsageException(option + " needs a number, got " + v);
      }
    }
  }

  /** A command-line mistake; message null means "print usage". */
  static final class UsageException extends RuntimeException {
    UsageException(String message) {
      super(message);
    }
  }

  private SandboxMain() {}

  /** 6443 when free, else 0 (any free port). */
  static int defaultPort() {
    return freePortOr(6443);
  }

  /** {@code port} when it is free on 127.0.0.1, else 0 (any free port). */
  static int freePortOr(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress("127.0.0.1", port));
      return port;
    } catch (IOException e) {
      return 0;
    }
  }

  public static void main(String[] args) throws Exception {
    PrintStream out = System.out;
    Options options;
    try {
      options = Options.parse(args);
    } catch (UsageException e) {
      if (e.getMessage() != null) {
        System.err.println("sandbox: " + e.getMessage());
      }
      System.err.print(USAGE);
      System.exit(e.getMessage() == null ? 0 : 2);
      return;
    }
    PoolSpec pool = options.pool() == null ? PoolFile.loadDefault() : PoolFile.load(options.pool());
    SandboxChain chain = null;
    if (options.chain()) {
      try {
        chain =
            SandboxChain.start(
                pool,
                SandboxChain.Options.forTimeScale(options.timeScale()),
                line -> out.println("[chain] " + line));
      } catch (AnvilMissingException e) {
        System.err.println("sandbox: " + e.getMessage());
        System.exit(1);
        return;
      }
    }
    SandboxChain billingChain = chain;
    Sandbox.Builder builder =
        Sandbox.builder()
            .pool(pool)
            .port(options.port())
            .kubeconfig(options.kubeconfig())
            .crds(options.crds())
            .timeScale(options.timeScale())
            .evictionTimeout(Duration.ofSeconds(options.evictionSeconds()))
            .log(line -> out.println("[sandbox] " + line));
    boolean realWorkloads = options.workloads() != null && TorchCheck.available(out);
    if (realWorkloads) {
      Path data = options.kubeconfig().toAbsolutePath().getParent().resolve("workloads-data");
      builder.processMode(ProcessMode.debian(options.workloads().toAbsolutePath(), data));
      out.println(
          "[sandbox] real workloads: pods of "
              + ProcessMode.IMAGE_PREFIX
              + " run as local processes (torch), their files under "
              + data);
    }
    Sandbox sandbox;
    try {
      sandbox = builder.start();
    } catch (RuntimeException e) {
      if (billingChain != null) {
        billingChain.close(); // anvil is a child process: do not leave it behind
      }
      throw e;
    }
    EventPrinter printer = new EventPrinter(sandbox.client(), out::println);
    KubernetesClient dcgmClient = sandbox.newClient();
    SimulatedDcgmExporter dcgm = SimulatedDcgmExporter.start(dcgmClient, options.dcgmPort());
    Process[] operator = new Process[1];
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  out.println("[sandbox] shutting down");
                  stopOperator(operator[0]);
                  printer.close();
                  dcgm.close();
                  dcgmClient.close();
                  sandbox.close();
                  if (billingChain != null) {
                    billingChain.close();
                  }
                  stopped.countDown();
                },
                "sandbox-shutdown"));
    out.println("[sandbox] API server on " + sandbox.url());
    out.println(
        "[sandbox] kubeconfig written to "
            + sandbox.kubeconfig().toAbsolutePath()
            + "  ->  export KUBECONFIG="
            + sandbox.kubeconfig().toAbsolutePath());
    out.println(
        "[sandbox] fault injection: kubectl label node NAME "
            + KubeletSimulator.FAULT_LABEL
            + "=NotReady|Ready|Removed --overwrite");
    out.println("[sandbox] simulated dcgm-exporter (GPU metrics) on " + dcgm.url());
    if (billingChain != null) {
      billingChain.describe().forEach(line -> out.println("[sandbox] " + line));
    } else {
      out.println("[sandbox] no billing chain (--no-chain): usage is metered, nothing is settled");
    }
    printer.start();
    if (options.operatorCmd() != null) {
      operator[0] =
          startOperator(options.operatorCmd(), sandbox, operatorEnvironment(billingChain), out);
    }
    List<HasMetadata> applied = new ArrayList<>();
    List<HasMetadata> examples = new ArrayList<>();
    if (options.apply() != null) {
      awaitCustomResourceTypes(sandbox, options.apply(), out);
      examples.addAll(sandbox.load(options.apply()));
    }
    // The reference workloads' jobs placed before the examples' jobs come (PlacedFirst says why);
    // the examples' other objects first, as the workloads charge their billing accounts.
    if (realWorkloads) {
      awaitCustomResourceTypes(sandbox, options.workloads(), out);
      List<HasMetadata> examplesJobs = SmokeCheck.jobs(examples);
      for (HasMetadata o : List.copyOf(examples)) {
        if (!examplesJobs.contains(o)) {
          applied.add(sandbox.apply(o));
          examples.remove(o);
        }
      }
      List<HasMetadata> workloads = sandbox.applyDirectory(options.workloads());
      applied.addAll(workloads);
      if (!examples.isEmpty() && operator[0] != null) {
        PlacedFirst.await(sandbox.client(), workloads, Duration.ofSeconds(120), out);
      }
    }
    examples.forEach(o -> applied.add(sandbox.apply(o)));
    if (options.smoke()) {
      boolean taken =
          SmokeCheck.awaitStatus(
              sandbox.client(), applied, Duration.ofSeconds(options.smokeTimeoutSeconds()), out);
      System.exit(taken ? 0 : 1); // the shutdown hook stops the operator, anvil and the API server
      return;
    }
    out.println("[sandbox] running; press Ctrl-C to stop");
    stopped.await();
  }

  /** Gives an operator that installs its own CRDs a moment before the manifests that need them. */
  private static void awaitCustomResourceTypes(Sandbox sandbox, Path dir, PrintStream out)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      try {
        sandbox.client().load(Files.newInputStream(firstYaml(dir))).items();
        return;
      } catch (Exception e) {
        out.println("[sandbox] waiting for the CRDs the manifests in " + dir + " need");
        Thread.sleep(2000);
      }
    }
  }

  private static Path firstYaml(Path dir) throws IOException {
    try (var s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
          .sorted()
          .findFirst()
          .orElseThrow(() -> new IOException("no YAML in " + dir));
    }
  }

  /** Starts the operator; {@code env} (billing settings, the reporter key) is never printed. */
  /**
   * The operator's settings: the chain's, and hardware challenges the simulated kubelet answers.
   */
  private static Map<String, String> operatorEnvironment(SandboxChain billingChain) {
    Map<String, String> env =
        new java.util.LinkedHashMap<>(
            io.gpupool.sandbox.kubelet.ChallengeAnswers.operatorEnvironment());
    if (billingChain != null) {
      env.putAll(billingChain.operatorEnvironment());
    }
    return env;
  }

  private static Process startOperator(
      String cmd, Sandbox sandbox, Map<String, String> env, PrintStream out) throws IOException {
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", cmd).redirectErrorStream(true);
    pb.environment().put("KUBECONFIG", sandbox.kubeconfig().toAbsolutePath().toString());
    pb.environment().put("KUBERNETES_MASTER", sandbox.url());
    pb.environment().putAll(env);
    Process p = pb.start();
    out.println("[sandbox] operator started (pid " + p.pid() + "): " + cmd);
    Thread pump =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  out.println("[operator] " + line);
                }
              } catch (IOException e) {
                // process ended
              }
              out.println("[sandbox] operator exited");
            },
            "operator-output");
    pump.setDaemon(true);
    pump.start();
    return p;
  }

  private static void stopOperator(Process p) {
    if (p == null || !p.isAlive()) {
      return;
    }
    p.descendants().forEach(ProcessHandle::destroy);
    p.destroy();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
