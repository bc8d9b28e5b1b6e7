package io.gpupool.billing.devchain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntSupplier;

/**
 * A local anvil chain for tests and the sandbox: started on a free loopback port, ready when its
 * own output says it listens on that port and it answers {@code eth_chainId}, stopped by {@link
 * #close()}. Runs the linux binary of {@code @foundry-rs/anvil-linux-amd64} directly (an {@code
 * npx} wrapper would outlive a kill).
 */
public final class AnvilProcess implements AutoCloseable {

  /** How to install the binary this class looks for. */
  public static final String INSTALL_HINT =
      "the Maven build of billing-bridge installs it (./mvnw -q -pl billing-bridge generate-resources;"
          + " needs `apt-get install nodejs npm`)";

  /** Relative location of the binary inside the module's contracts folder. */
  public static final String BINARY_IN_CONTRACTS =
      "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";

  /** Chain id anvil runs with here. */
  public static final long CHAIN_ID = 31337;

  private final Process process;
  private final int port;
  private final Path log;

  private AnvilProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /**
   * Where the anvil binary is: system property {@code gpupool.anvil}, else environment variable
   * {@code GPUPOOL_ANVIL}, else {@code billing-bridge/contracts/node_modules/...} found from the
   * working directory upwards.
   *
   * @throws IllegalStateException with the install command when it is not there
   */
  public static Path locateBinary() {
    return locate("gpupool.anvil", "GPUPOOL_ANVIL", BINARY_IN_CONTRACTS, "anvil");
  }

  static Path locate(String property, String env, String relative, String tool) {
    String explicit = System.getProperty(property, System.getenv(env));
    if (explicit != null && !explicit.isBlank()) {
      Path p = Path.of(explicit);
      if (Files.isExecutable(p)) {
        return p;
      }
      throw new IllegalStateException(tool + " not executable at " + p + "; " + INSTALL_HINT);
    }
    List<Path> tried = new ArrayList<>();
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      for (Path candidate :
          List.of(
              dir.resolve("billing-bridge/contracts").resolve(relative),
              dir.resolve("contracts").resolve(relative))) {
        if (Files.isExecutable(candidate)) {
          return candidate;
        }
        tried.add(candidate);
      }
    }
    throw new IllegalStateException(
        tool
            + " not found (looked for billing-bridge/contracts/"
            + relative
            + " from "
            + Path.of("").toAbsolutePath()
            + " upwards, "
            + tried.size()
            + " places); "
            + INSTALL_HINT);
  }

  /** Start anvil with the located binary and default options. */
  public static AnvilProcess start() {
    return start(locateBinary(), List.of());
  }

  /**
   * Start {@code binary} with {@code extraArgs} on a free loopback port and wait until it answers.
   */
  public static AnvilProcess start(Path binary, List<String> extraArgs) {
    return start(binary, extraArgs, AnvilProcess::freePort);
  }

  /**
   * Start {@code binary} on the first of {@code ports} it can bind (at most three tries). A port
   * probed free can be taken by another process before anvil binds it; anvil then exits with
   * "Address already in use" and the next port is tried.
   */
  public static AnvilProcess start(Path binary, List<String> extraArgs, IntSupplier ports) {
    IllegalStateException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int port = ports.getAsInt();
      try {
        return startOn(binary, port, extraArgs);
      } catch (IllegalStateException e) {
        last = e;
      }
    }
    throw last;
  }

  /** Start on a given port (e.g. to restart a chain from a state file on the same endpoint). */
  public static AnvilProcess startOn(Path binary, int port, List<String> extraArgs) {
    List<String> cmd = new ArrayList<>();
    cmd.add(binary.toString());
    cmd.addAll(
        List.of(
            "--host",
            "127.0.0.1",
            "--port",
            Integer.toString(port),
            "--chain-id",
            Long.toString(CHAIN_ID)));
    cmd.addAll(extraArgs);
    Path log;
    Process p;
    try {
      log = Files.createTempFile("anvil-" + port + "-", ".log");
      p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + binary, e);
    }
    AnvilProcess anvil = new AnvilProcess(p, port, log);
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        String out = anvil.logTail();
        anvil.close();
        throw new IllegalStateException("anvil exited with " + p.exitValue() + ": " + out);
      }
      // Only our own process counts: another anvil may answer on this port (it took the port
      // between probing and binding), so wait for our process to say it listens there.
      if (anvil.saysListening() && anvil.answers()) {
        return anvil;
      }
      sleep(50);
    }
    anvil.close();
    throw new IllegalStateException("anvil did not answer on port " + port + " within 20 s");
  }

  /** True when our process's output says it bound the port ("Listening on 127.0.0.1:PORT"). */
  private boolean saysListening() {
    try {
      return Files.readString(log).contains("Listening on 127.0.0.1:" + port + "\n");
    } catch (IOException e) {
      return false;
    }
  }

  /** True when the node answers {@code eth_chainId}. */
  public boolean answers() {
    try {
      HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
      HttpRequest req =
          HttpRequest.newBuilder(URI.create(rpcUrl()))
              .timeout(Duration.ofSeconds(2))
              .header("Content-Type", "application/json")
              .POST(
                  HttpRequest.BodyPublishers.ofString(
                      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}"))
              .build();
      HttpResponse<String> r = client.send(req, HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 && r.body().contains("\"result\"");
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  public String rpcUrl() {
    return "http://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  public long chainId() {
    return CHAIN_ID;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Last lines of anvil's output (for failure messages). */
  public String logTail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** Stop anvil (SIGTERM, then SIGKILL after 5 s) and delete its log. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    try {
      Files.deleteIfExists(log);
    } catch (IOException ignored) {
      // a leftover temp file is harmless
    }
  }

  /** The process id, for diagnostics. */
  public Optional<Long> pid() {
    return Optional.of(process.pid());
  }

  /** A loopback port free at the time of asking (another process may take it right after). */
  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port", e);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
