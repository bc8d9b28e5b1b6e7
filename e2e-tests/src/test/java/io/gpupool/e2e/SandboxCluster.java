package io.gpupool.e2e;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.sandbox.Sandbox;
import io.gpupool.sandbox.chain.SandboxChain;
import io.gpupool.sandbox.kubelet.ProcessMode;
import io.gpupool.sandbox.pool.PoolFile;
import io.gpupool.sandbox.pool.PoolSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * The sandbox with the packaged operator running against it as a separate process, exactly as
 * {@code ./gpupool sandbox} runs them, and as the Helm chart installs it: the chart's
 * ServiceAccount and RBAC are installed in the release namespace {@value ChartRelease#NAMESPACE}
 * and the operator authenticates with that service account's token (its kubeconfig, {@link
 * #operatorKubeconfig()}), so the sandbox authorizes each of its requests with exactly the chart's
 * rules; {@code POD_NAMESPACE} is the release namespace, as the chart's downward API sets it. One
 * per test class; its operator log is kept under target/e2e-logs for failures. With {@link
 * #startWithChain} it also has the sandbox's billing chain (anvil, GpuPoolBilling, funded example
 * payers) and the operator settles on it, as {@code ./gpupool sandbox} does by default; otherwise
 * billing is disabled.
 */
final class SandboxCluster implements AutoCloseable {
  static final Path REPO =
      Path.of(System.getProperty("gpupool.repo", "..")).toAbsolutePath().normalize();

  private final Sandbox sandbox;
  private final SandboxChain chain;
  private final Process operator;
  private final Path operatorLog;
  private final Path operatorKubeconfig;
  private final SandboxLogFile sandboxLog;
  final Kubectl kubectl;

  private SandboxCluster(
      Sandbox sandbox,
      SandboxChain chain,
      Process operator,
      Path operatorLog,
      Path operatorKubeconfig,
      SandboxLogFile sandboxLog) {
    this.sandbox = sandbox;
    this.sandboxLog = sandboxLog;
    this.chain = chain;
    this.operator = operator;
    this.operatorLog = operatorLog;
    this.operatorKubeconfig = operatorKubeconfig;
    this.kubectl = new Kubectl(sandbox.kubeconfig());
  }

  /**
   * Starts the default pool with {@code timeScale} sandbox seconds per wall second and the operator
   * with {@code operatorEnv} on top of test-friendly settings.
   */
  static SandboxCluster start(String name, double timeScale, Map<String, String> operatorEnv)
      throws IOException {
    return start(name, timeScale, operatorEnv, 0);
  }

  /** As {@link #start(String, double, Map)} on another pool than the default one. */
  static SandboxCluster start(
      String name, double timeScale, Map<String, String> operatorEnv, PoolSpec pool)
      throws IOException {
    return start(name, timeScale, operatorEnv, 0, null, pool, List.of(), "");
  }

  /** As {@link #start(String, double, Map, PoolSpec)}, with the operator's HTTP (metrics) port. */
  static SandboxCluster startOnPool(
      String name, double timeScale, Map<String, String> operatorEnv, int httpPort, PoolSpec pool)
      throws IOException {
    return start(name, timeScale, operatorEnv, httpPort, null, pool, List.of(), "");
  }

  /** As {@link #start(String, double, Map)}, with the operator's HTTP (metrics) port. */
  static SandboxCluster start(
      String name, double timeScale, Map<String, String> operatorEnv, int httpPort)
      throws IOException {
    return start(name, timeScale, operatorEnv, httpPort, null);
  }

  /**
   * As {@link #start(String, double, Map)} with the sandbox's billing chain: the operator gets its
   * {@code GPUPOOL_BILLING_*} environment ({@code operatorEnv} overrides it).
   */
  static SandboxCluster startWithChain(
      String name,
      double timeScale,
      SandboxChain.Options chainOptions,
      Map<String, String> operatorEnv)
      throws IOException {
    return start(name, timeScale, operatorEnv, 0, chainOptions);
  }

  /** As {@link #startWithChain(String, double, SandboxChain.Options, Map)} on another pool. */
  static SandboxCluster startWithChainOnPool(
      String name,
      double timeScale,
      SandboxChain.Options chainOptions,
      Map<String, String> operatorEnv,
      PoolSpec pool)
      throws IOException {
    return start(name, timeScale, operatorEnv, 0, chainOptions, pool, List.of(), "");
  }

  /** As {@link #startWithChain(String, double, SandboxChain.Options, Map)}, with the HTTP port. */
  static SandboxCluster startWithChain(
      String name,
      double timeScale,
      SandboxChain.Options chainOptions,
      Map<String, String> operatorEnv,
      int httpPort)
      throws IOException {
    return start(name, timeScale, operatorEnv, httpPort, chainOptions);
  }

  /**
   * As {@link #startWithChain(String, double, SandboxChain.Options, Map, int)}, the operator
   * reaching the chain through {@code rpcRoute} (given anvil's URL, returns the URL the operator
   * gets: a fault-injecting proxy's).
   */
  static SandboxCluster startWithChainThrough(
      String name,
      double timeScale,
      SandboxChain.Options chainOptions,
      Map<String, String> operatorEnv,
      int httpPort,
      UnaryOperator<String> rpcRoute)
      throws IOException {
    return start(
        name,
        timeScale,
        operatorEnv,
        httpPort,
        chainOptions,
        PoolFile.loadDefault(),
        List.of(),
        "",
        rpcRoute);
  }

  /**
   * As {@link #start(String, double, Map)} with the chart rendered for {@code scope.namespaces}
   * {@code namespaces} (created if missing): the operator gets the RBAC and the scope environment
   * that release would have.
   */
  static SandboxCluster startScoped(
      String name, double timeScale, Map<String, String> operatorEnv, List<String> namespaces)
      throws IOException {
    return start(name, timeScale, operatorEnv, 0, null, PoolFile.loadDefault(), namespaces, "");
  }

  /**
   * As {@link #start(String, double, Map)} with the chart rendered for {@code
   * scope.namespaceSelector} {@code selector}: the operator gets that release's RBAC (the unscoped
   * ClusterRole) and the selector; the test creates and labels the namespaces.
   */
  static SandboxCluster startSelected(
      String name, double timeScale, Map<String, String> operatorEnv, String selector)
      throws IOException {
    return start(
        name, timeScale, operatorEnv, 0, null, PoolFile.loadDefault(), List.of(), selector);
  }

  private static SandboxCluster start(
      String name,
      double timeScale,
      Map<String, String> operatorEnv,
      int httpPort,
      SandboxChain.Options chainOptions)
      throws IOException {
    return start(
        name,
        timeScale,
        operatorEnv,
        httpPort,
        chainOptions,
        PoolFile.loadDefault(),
        List.of(),
        "");
  }

  private static SandboxCluster start(
      String name,
      double timeScale,
      Map<String, String> operatorEnv,
      int httpPort,
      SandboxChain.Options chainOptions,
      PoolSpec pool,
      List<String> scope,
      String selector)
      throws IOException {
    return start(
        name,
        timeScale,
        operatorEnv,
        httpPort,
        chainOptions,
        pool,
        scope,
        selector,
        UnaryOperator.identity());
  }

  private static SandboxCluster start(
      String name,
      double timeScale,
      Map<String, String> operatorEnv,
      int httpPort,
      SandboxChain.Options chainOptions,
      PoolSpec pool,
      List<String> scope,
      String selector,
      UnaryOperator<String> rpcRoute)
      throws IOException {
    Kubectl.binary();
    Path operatorJar = REPO.resolve("operator/target/quarkus-app/quarkus-run.jar");
    if (!Files.exists(operatorJar)) {
      throw new AssertionError(
          operatorJar + " is missing: build the operator first (./mvnw install)");
    }
    Path logs = REPO.resolve("e2e-tests/target/e2e-logs");
    Files.createDirectories(logs);
    Path kubeconfig = logs.resolve(name + ".kubeconfig");
    SandboxChain chain =
        chainOptions == null
            ? null
            : SandboxChain.start(pool, chainOptions, line -> System.out.println("[chain] " + line));
    Sandbox sandbox;
    SandboxLogFile sandboxLog = new SandboxLogFile(logs.resolve(name + "-sandbox.log"));
    try {
      sandbox = startSandbox(pool, kubeconfig, timeScale, sandboxLog);
    } catch (RuntimeException e) {
      sandboxLog.close();
      if (chain != null) {
        chain.close();
      }
      throw e;
    }
    Path operatorKubeconfig;
    try {
      ChartRelease.installIdentityAndRbac(sandbox.client(), scope, selector);
      operatorKubeconfig =
          sandbox.writeServiceAccountKubeconfig(
              logs.resolve(name + "-operator.kubeconfig"),
              ChartRelease.NAMESPACE,
              ChartRelease.serviceAccount());
    } catch (RuntimeException e) {
      sandbox.close();
      sandboxLog.close();
      if (chain != null) {
        chain.close();
      }
      throw e;
    }
    Map<String, String> env = new LinkedHashMap<>();
    env.put("POD_NAMESPACE", ChartRelease.NAMESPACE);
    // The release's identity and scope, as the chart's Deployment sets them.
    ChartRelease.operatorEnvironment(scope, selector)
        .forEach(
            (k, v) -> {
              if (k.startsWith("GPUPOOL_SCOPE_")
                  || k.startsWith("QUARKUS_OPERATOR_SDK_CONTROLLERS_")) {
                env.put(k, v);
              }
            });
    if (chain != null) {
      env.putAll(chain.operatorEnvironment());
      env.put("GPUPOOL_BILLING_RPC_URL", rpcRoute.apply(chain.rpcUrl()));
    }
    env.putAll(operatorEnv);
    Path operatorLog = logs.resolve(name + "-operator.log");
    List<String> command = new ArrayList<>(List.of(javaBinary(), "-Xmx512m"));
    // Benchmarks size the operator's JVM themselves (heap for 10,000 jobs, a JFR recording).
    String jvmOptions = System.getProperty("gpupool.operator.jvmOptions", "").trim();
    if (!jvmOptions.isEmpty()) {
      command.addAll(List.of(jvmOptions.split("\\s+")));
    }
    command.addAll(List.of("-jar", operatorJar.toString()));
    ProcessBuilder pb =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(operatorLog.toFile());
    pb.environment().put("KUBECONFIG", operatorKubeconfig.toString());
    pb.environment().put("QUARKUS_HTTP_PORT", Integer.toString(httpPort));
    pb.environment().put("QUARKUS_HTTP_HOST", "127.0.0.1"); // tests listen on loopback only
    pb.environment().put("GPUPOOL_NODES_LOST_GRACE_PERIOD", "3s");
    pb.environment().putAll(env);
    Process operator = pb.start();
    SandboxCluster cluster =
        new SandboxCluster(sandbox, chain, operator, operatorLog, operatorKubeconfig, sandboxLog);
    try {
      cluster.awaitOperatorStarted();
    } catch (AssertionError | RuntimeException e) {
      cluster.close(); // no orphaned operator, API server or anvil after a failed start
      throw e;
    }
    return cluster;
  }

  private static Sandbox startSandbox(
      PoolSpec pool, Path kubeconfig, double timeScale, SandboxLogFile log) {
    Path processData =
        kubeconfig.resolveSibling(
            kubeconfig.getFileName().toString().replace(".kubeconfig", "-data"));
    deleteTree(processData); // checkpoints and logs of an earlier run must not be found again
    return Sandbox.builder()
        .pool(pool)
        .crds(REPO.resolve("crds"))
        .kubeconfig(kubeconfig)
        .timeScale(timeScale)
        .evictionTimeout(Duration.ofSeconds(600))
        // the reference workload images run as real processes (torch); other pods stay simulated
        .processMode(ProcessMode.debian(REPO.resolve("examples/workloads"), processData))
        .log(log)
        .start();
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot clear " + dir, e);
    }
  }

  private static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private void awaitOperatorStarted() throws IOException {
    Instant deadline = Instant.now().plusSeconds(90);
    while (Instant.now().isBefore(deadline)) {
      if (!operator.isAlive()) {
        throw new AssertionError("operator exited at start:\n" + Files.readString(operatorLog));
      }
      if (Files.readString(operatorLog).contains("'trainingjob' controller started")) {
        return;
      }
      sleep(200);
    }
    throw new AssertionError("operator did not start in 90 s:\n" + Files.readString(operatorLog));
  }

  /** The administrator's client (all-powerful, as kubectl's admin kubeconfig). */
  KubernetesClient client() {
    return sandbox.client();
  }

  /**
   * The operator's kubeconfig: the chart's service account, authorized by the chart's RBAC. More
   * replicas ({@link OperatorProcess}) start with it.
   */
  Path operatorKubeconfig() {
    return operatorKubeconfig;
  }

  Sandbox sandbox() {
    return sandbox;
  }

  /** The billing chain; only for clusters started with {@link #startWithChain}. */
  SandboxChain chain() {
    if (chain == null) {
      throw new IllegalStateException("this cluster was started without a chain");
    }
    return chain;
  }

  String operatorLog() {
    try {
      return Files.readString(operatorLog);
    } catch (IOException e) {
      return "(no operator log: " + e + ")";
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Process id of the operator this cluster started (its leader-election identity ends in it). */
  long operatorPid() {
    return operator.pid();
  }

  /** Whether the operator this cluster started still runs. */
  boolean operatorAlive() {
    return operator.isAlive();
  }

  /** SIGKILLs the operator this cluster started, as a crashed replica: nothing is released. */
  void killOperator() {
    operator.destroyForcibly();
    try {
      operator.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    operator.destroy();
    try {
      if (!operator.waitFor(10, TimeUnit.SECONDS)) {
        operator.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    sandbox.close();
    sandboxLog.close();
    if (chain != null) {
      chain.close(); // after the operator: nothing is sending to it any more
    }
  }
}
