package io.gpupool.sandbox.chain;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.gpupool.billing.devchain.AnvilProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * The sandbox's anvil node: the process on 127.0.0.1, the state file it loads at start, writes
 * every state interval ({@link #STATE_INTERVAL} by default) and on exit, and restarting it on that
 * state and port as a node operator restarts a node, cleanly or after a crash. Knows nothing of the
 * contract.
 */
final class SandboxAnvil implements AutoCloseable {

  /**
   * Dev accounts anvil funds here (0..19; anvil's default is 10): accounts 10..19 are free for pool
   * providers that should register and stake with their own key (0..9 are taken by the owner, the
   * default pool's providers, the example payers and the reporter).
   */
  static final int DEV_ACCOUNTS = 20;

  /**
   * How often anvil writes its state file. Without it anvil writes only on a clean exit, and a
   * crashed (SIGKILLed) anvil came back at block 0, the contract gone; with it a crash loses the
   * blocks of at most about this long, which the operator settles again ({@link
   * SandboxChain#RECHECK_INTERVAL}).
   */
  static final Duration STATE_INTERVAL = Duration.ofSeconds(1);

  /** Install instructions when anvil is missing. */
  static final String INSTALL_HINT =
      "the Maven build installs it from billing-bridge/contracts/package-lock.json (`./gpupool"
          + " sandbox` builds first; by hand: ./mvnw -q -pl billing-bridge generate-resources, which"
          + " needs `apt-get install nodejs npm`), or start the sandbox without a chain (--no-chain)";

  private final Path stateDir;
  private final Duration stateInterval;
  private volatile AnvilProcess process;

  private SandboxAnvil(Path stateDir, Duration stateInterval, AnvilProcess process) {
    this.stateDir = stateDir;
    this.stateInterval = stateInterval;
    this.process = process;
  }

  /**
   * Starts anvil on a free port with a fresh state file, written every {@code stateInterval}.
   *
   * @throws AnvilMissingException when anvil is not installed
   */
  static SandboxAnvil start(Duration stateInterval) {
    Path binary = locate();
    Path stateDir = tempDir();
    try {
      return new SandboxAnvil(
          stateDir, stateInterval, AnvilProcess.start(binary, args(stateDir, stateInterval)));
    } catch (RuntimeException e) {
      deleteState(stateDir);
      throw e;
    }
  }

  /**
   * The anvil binary (see {@link AnvilProcess#locateBinary()}).
   *
   * @throws AnvilMissingException with install instructions when it is not there
   */
  static Path locate() {
    try {
      return AnvilProcess.locateBinary();
    } catch (IllegalStateException e) {
      // AnvilProcess says where it looked, then its own hint: keep the first part, ours instead
      String where = e.getMessage().split(";", 2)[0];
      throw new AnvilMissingException("anvil is not installed (" + where + "): " + INSTALL_HINT, e);
    }
  }

  /**
   * anvil's arguments: the dev accounts, and a state file it loads at start and writes every {@code
   * stateInterval} and on exit, so {@link #restart} and {@link #crashAndRestart} bring the same
   * chain back.
   */
  private static List<String> args(Path stateDir, Duration stateInterval) {
    return List.of(
        "--accounts",
        Integer.toString(DEV_ACCOUNTS),
        "--state",
        stateDir.resolve("state.json").toString(),
        "--state-interval",
        Long.toString(stateInterval.toSeconds()));
  }

  String rpcUrl() {
    return process.rpcUrl();
  }

  long chainId() {
    return process.chainId();
  }

  boolean isAlive() {
    return process.isAlive() && process.answers();
  }

  /**
   * Stops anvil (SIGTERM: it writes its state, blocks, transactions and receipts on the way out)
   * and starts it again from that state on the same port, as a node operator restarts a node:
   * requests in between fail, transactions sent but not yet mined are gone from its pool, whatever
   * was mined is there again. Returns how long the chain was down.
   */
  synchronized Duration restart() {
    long start = System.nanoTime();
    int port = process.port();
    process.close();
    startAgainOn(port);
    return Duration.ofNanos(System.nanoTime() - start);
  }

  /**
   * SIGKILLs anvil, as a crash or an OOM kill would, and starts it again on the same port from the
   * state file it last wrote: the blocks mined since that write (at most about its state interval)
   * are gone with their transactions, as in a chain reorganisation. Returns how long the chain was
   * down.
   */
  synchronized Duration crashAndRestart() {
    long start = System.nanoTime();
    int port = process.port();
    ProcessHandle.of(process.pid().orElseThrow())
        .ifPresent(
            handle -> {
              handle.destroyForcibly(); // SIGKILL: no state written on the way out
              handle.onExit().orTimeout(10, TimeUnit.SECONDS).join();
            });
    process.close(); // already gone: only its log file is removed
    startAgainOn(port);
    return Duration.ofNanos(System.nanoTime() - start);
  }

  /**
   * The block number of the state anvil wrote last, empty when it wrote none yet or the file is
   * being written: a SIGKILL now takes back every block above it. Read as a stream up to that one
   * field (the file holds every block and grows over a long run).
   */
  OptionalLong lastWrittenBlock() {
    Path state = stateDir.resolve("state.json");
    if (!Files.isRegularFile(state)) {
      return OptionalLong.empty();
    }
    try (JsonParser json = new JsonFactory().createParser(state.toFile())) {
      if (json.nextToken() != JsonToken.START_OBJECT) {
        return OptionalLong.empty();
      }
      while (json.nextToken() == JsonToken.FIELD_NAME) {
        String field = json.currentName();
        JsonToken value = json.nextToken();
        if ("best_block_number".equals(field)) {
          return value == JsonToken.VALUE_STRING
              ? OptionalLong.of(Long.decode(json.getText()))
              : OptionalLong.of(json.getLongValue());
        }
        json.skipChildren();
      }
      return OptionalLong.empty();
    } catch (IOException | NumberFormatException e) {
      return OptionalLong.empty(); // caught mid-write
    }
  }

  private void startAgainOn(int port) {
    IllegalStateException last = null;
    for (int attempt = 0; attempt < 5; attempt++) {
      try {
        process = AnvilProcess.startOn(locate(), port, args(stateDir, stateInterval));
        return;
      } catch (IllegalStateException e) {
        last = e; // the port not free again yet
        try {
          Thread.sleep(200);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
    throw last;
  }

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("sandbox-anvil-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create anvil's state directory", e);
    }
  }

  private static void deleteState(Path dir) {
    try {
      Files.deleteIfExists(dir.resolve("state.json"));
      Files.deleteIfExists(dir);
    } catch (IOException ignored) {
      // a leftover temp file is harmless
    }
  }

  /** Stops anvil and deletes its state: the chain goes with it. */
  @Override
  public void close() {
    process.close();
    deleteState(stateDir);
  }
}
