package io.gpupool.operator.billing;

import io.gpupool.billing.chain.ContractVersionMismatchException;
import io.gpupool.operator.config.Backoffs;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.jboss.logging.Logger;

/**
 * Connecting the leader to the billing contract, until it succeeds. A new leader checks the
 * contract's version (an RPC call) before it settles anything; an RPC endpoint that errs at that
 * moment must delay settlement, never cancel it: a leader that gave up on its first attempt led for
 * good with no settlement and no stakes read, so every job waited on an unreadable stake gate. A
 * contract of another version is not transient: that is reported once, as an error, and not retried
 * (only deploying a matching contract and pointing the operator at it helps).
 */
final class ChainConnection {
  private static final Logger LOG = Logger.getLogger(ChainConnection.class);
  static final Duration FIRST_RETRY = Duration.ofSeconds(1);
  static final Duration LONGEST_RETRY = Duration.ofSeconds(30);

  /** One attempt to connect: throws what the chain answered when it cannot. */
  interface Attempt {
    void connect();
  }

  private final Attempt attempt;
  private final BiConsumer<Runnable, Duration> later;
  private final Runnable connected;
  private volatile String problem;
  private volatile boolean done;
  private volatile boolean stopped;
  private int failures;

  /**
   * @param later runs a retry after a delay (a daemon timer in the operator, by hand in tests)
   * @param connected run once, after the attempt that succeeded
   */
  ChainConnection(Attempt attempt, BiConsumer<Runnable, Duration> later, Runnable connected) {
    this.attempt = attempt;
    this.later = later;
    this.connected = connected;
  }

  /** Tries now, and again later for as long as the chain cannot be reached. */
  void start() {
    tryOnce();
  }

  /** No more retries (shutdown). */
  void stop() {
    stopped = true;
  }

  boolean connected() {
    return done;
  }

  /** Why billing is not connected yet (empty once connected or before the first attempt). */
  Optional<String> problem() {
    return done ? Optional.empty() : Optional.ofNullable(problem);
  }

  private void tryOnce() {
    if (stopped || done) {
      return;
    }
    try {
      attempt.connect();
    } catch (ContractVersionMismatchException e) {
      problem = e.getMessage();
      LOG.errorf("billing stays off: %s", e.getMessage());
      return;
    } catch (RuntimeException e) {
      failures++;
      problem = "the billing chain cannot be reached yet: " + e.getMessage();
      Duration wait = backoff(failures);
      if (failures == 1 || Integer.bitCount(failures) == 1) {
        LOG.warnf(
            e,
            "connecting to the billing contract failed (%d time(s)); retried in %s",
            failures,
            wait);
      }
      later.accept(this::tryOnce, wait);
      return;
    }
    done = true;
    if (failures > 0) {
      LOG.infof("connected to the billing contract after %d failed attempt(s)", failures);
    }
    connected.run();
  }

  /** 1 s, 2 s, 4 s, … at most {@link #LONGEST_RETRY}. */
  static Duration backoff(int failures) {
    return Backoffs.doubling(FIRST_RETRY, LONGEST_RETRY, failures);
  }
}
