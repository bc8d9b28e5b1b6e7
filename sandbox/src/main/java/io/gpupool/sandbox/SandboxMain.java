package io.gpupool.sandbox;

import io.gpupool.sandbox.kubelet.KubeletSimulator;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Runs the sandbox until interrupted:
 *
 * <pre>
 * java -cp 'sandbox/target/sandbox-*.jar:sandbox/target/lib/*' io.gpupool.sandbox.SandboxMain \
 *   [--pool FILE] [--port N] [--kubeconfig PATH] [--crds DIR] [--apply DIR]
 *   [--operator-cmd "CMD"] [--time-scale X] [--eviction-timeout SECONDS]
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
      long evictionSeconds) {

    static Options parse(String[] args) {
      Path pool = null;
      Integer port = null;
      Path kubeconfig = Path.of(".sandbox", "kubeconfig");
      Path crds = Files.isDirectory(Path.of("crds")) ? Path.of("crds") : null;
      Path apply = null;
      String operator = null;
      double scale = 1.0;
      long eviction = 300;
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--help") || a.equals("-h")) {
          throw new UsageException(null);
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
      return new Options(
          pool,
          port == null ? defaultPort() : port,
          kubeconfig,
          crds,
          apply,
          operator,
          scale,
          eviction);
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
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress("127.0.0.1", 6443));
      return 6443;
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
    Sandbox.Builder builder =
        Sandbox.builder()
            .port(options.port())
            .kubeconfig(options.kubeconfig())
            .crds(options.crds())
            .timeScale(options.timeScale())
            .evictionTimeout(Duration.ofSeconds(options.evictionSeconds()))
            .log(line -> out.println("[sandbox] " + line));
    if (options.pool() != null) {
      builder.poolFile(options.pool());
    }
    Sandbox sandbox = builder.start();
    EventPrinter printer = new EventPrinter(sandbox.client(), out::println);
    Process[] operator = new Process[1];
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  out.println("[sandbox] shutting down");
                  stopOperator(operator[0]);
                  printer.close();
                  sandbox.close();
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
    printer.start();
    if (options.operatorCmd() != null) {
      operator[0] = startOperator(options.operatorCmd(), sandbox, out);
    }
    if (options.apply() != null) {
      awaitCustomResourceTypes(sandbox, options.apply(), out);
      sandbox.applyDirectory(options.apply());
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

  private static Process startOperator(String cmd, Sandbox sandbox, PrintStream out)
      throws IOException {
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", cmd).redirectErrorStream(true);
    pb.environment().put("KUBECONFIG", sandbox.kubeconfig().toAbsolutePath().toString());
    pb.environment().put("KUBERNETES_MASTER", sandbox.url());
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
