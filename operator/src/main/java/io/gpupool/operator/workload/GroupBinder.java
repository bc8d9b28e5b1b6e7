package io.gpupool.operator.workload;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.gpupool.operator.config.Backoffs;
import io.gpupool.operator.config.DaemonThreads;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiPredicate;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.jboss.logging.Logger;

/**
 * Creates placed pod groups off the reconcile thread — a TrainingJob's gang, an InferenceJob's
 * replica group, a spot-check's verifier — the way kube-scheduler separates its serial scheduling
 * cycle from concurrent binding: the reconciler decides and reserves GPUs in microseconds, and the
 * API round-trips of recording the pods' billing terms and creating their Services and pods (slow
 * when the API server is busy) no longer hold a reconcile thread or delay the decisions queued
 * behind it.
 *
 * <p>A group is created whole or not at all: when any pod cannot be created, the pods already
 * created are deleted before the outcome is reported, so no partial group survives. While groups
 * are being created under a key (a job's UID) the reconciler leaves that job alone ({@link #busy});
 * when creation ends the job is woken and failures are handed over once ({@link #takeFailure}).
 */
@ApplicationScoped
public class GroupBinder {
  private static final Logger LOG = Logger.getLogger(GroupBinder.class);

  /** API calls are I/O bound: a few concurrent bindings keep the API server busy, not flooded. */
  private static final int THREADS = 4;

  private final Workloads workloads;
  private final Timer bindTime;
  private final ExecutorService executor;
  // Groups being created, by key: an InferenceJob places several replica groups at once.
  private final Map<String, Integer> inFlight = new ConcurrentHashMap<>();
  private final Map<String, String> failures = new ConcurrentHashMap<>();
  private final Map<String, Backoff> backoffs = new ConcurrentHashMap<>();

  /** Consecutive failed creations under one key and when the next attempt may start. */
  private record Backoff(int failures, Instant notBefore) {}

  /**
   * First wait after a failed creation; doubles with each further failure up to {@link #MAX_RETRY}.
   */
  static final Duration FIRST_RETRY = Duration.ofSeconds(5);

  static final Duration MAX_RETRY = Duration.ofMinutes(5);

  public GroupBinder(Workloads workloads, MeterRegistry registry) {
    this.workloads = workloads;
    this.bindTime =
        Timer.builder("gpupool_gang_create_duration_seconds")
            .description(
                "Time to create a placed gang's, replica group's or check's Services and pods"
                    + " (the binding step after a placement decision), including rollbacks")
            .publishPercentileHistogram()
            .register(registry);
    this.executor =
        Executors.newFixedThreadPool(THREADS, DaemonThreads.numbered("gpupool-gang-binder"));
  }

  /**
   * A group to create: the key it is followed under (its job's UID, or a part of the job), what it
   * is in messages ("gang", "replica 1"), its namespace, Services and pods.
   *
   * <p>{@code recordTerms} records the pods' billing terms where metering reads them and returns
   * the pods with the terms written on; it runs here, before the first pod, not on the reconcile
   * thread: recording is an API write (a ConfigMap), and under load a write per placement was the
   * reconcile's p99. It throws when the terms cannot be recorded: the group is then not created
   * (its pods would run unbilled) and fails like any other creation, rolled back and retried after
   * a backoff.
   *
   * <p>{@code adopt} says whether a pod found under a wanted pod's name is this group's own (a
   * retried binding whose status write was lost), which converges instead of failing.
   */
  public record Group(
      String key,
      String what,
      String namespace,
      List<Service> services,
      List<Pod> pods,
      UnaryOperator<List<Pod>> recordTerms,
      BiPredicate<Pod, Pod> adopt) {}

  /**
   * Creates {@code group} in the background. {@code created} receives each pod as the server stored
   * it once the whole group exists (the controller's pod cache shows it from then on, before the
   * watch delivers it); {@code rolledBack} runs after a failed creation was undone; {@code done}
   * runs after every outcome (wake the job there).
   */
  public void bind(Group group, Consumer<Pod> created, Consumer<String> rolledBack, Runnable done) {
    inFlight.merge(group.key(), 1, Integer::sum);
    try {
      executor.execute(() -> run(group, created, rolledBack, done));
    } catch (RuntimeException e) {
      ended(group.key());
      throw e;
    }
  }

  /** True while a group under {@code key} is being created. */
  public boolean busy(String key) {
    return inFlight.containsKey(key);
  }

  /**
   * How long {@code key} must still wait before its next group may be created, after failed
   * attempts (5 s, doubling to 5 min): a permanent cause (a name taken, a quota) must not spin.
   */
  public Optional<Duration> holdOff(String key, Instant now) {
    Backoff b = backoffs.get(key);
    if (b == null || !now.isBefore(b.notBefore())) {
      return Optional.empty();
    }
    return Optional.of(Duration.between(now, b.notBefore()));
  }

  /** Forgets a deleted job's key. */
  public void forget(String key) {
    backoffs.remove(key);
    failures.remove(key);
  }

  /** Why the last groups under {@code key} could not be created, once; empty when none failed. */
  public Optional<String> takeFailure(String key) {
    return Optional.ofNullable(failures.remove(key));
  }

  private void run(Group group, Consumer<Pod> created, Consumer<String> rolledBack, Runnable done) {
    long start = System.nanoTime();
    try {
      Optional<String> failure = create(group, created);
      if (failure.isPresent()) {
        failed(group.key(), failure.get(), rolledBack);
      } else {
        backoffs.remove(group.key());
      }
    } catch (RuntimeException e) {
      LOG.errorf(e, "creating %s of %s failed unexpectedly", group.what(), group.key());
      failed(group.key(), group.what() + " creation failed: " + e.getMessage(), rolledBack);
    } finally {
      ended(group.key());
      bindTime.record(Duration.ofNanos(System.nanoTime() - start));
      done.run();
    }
  }

  private void ended(String key) {
    inFlight.computeIfPresent(key, (k, n) -> n == 1 ? null : n - 1);
  }

  private void failed(String key, String why, Consumer<String> rolledBack) {
    Backoff previous = backoffs.get(key);
    int count = previous == null ? 1 : previous.failures() + 1;
    Duration wait = Backoffs.doubling(FIRST_RETRY, MAX_RETRY, count);
    // Recorded before the GPUs are released: the release wakes waiting jobs, this one included.
    backoffs.put(key, new Backoff(count, Instant.now().plus(wait)));
    failures.merge(
        key,
        why + " (attempt " + count + "; next in " + wait.toSeconds() + "s)",
        (earlier, later) -> earlier + "; " + later);
    rolledBack.accept(why);
  }

  /** Creates the group whole; on failure the port has deleted what was created; says why. */
  Optional<String> create(Group group) {
    return create(group, pod -> {});
  }

  private Optional<String> create(Group group, Consumer<Pod> created) {
    List<Pod> pods;
    try {
      pods = group.recordTerms().apply(group.pods());
    } catch (RuntimeException e) {
      return Optional.of(
          group.what() + " not created: its billing terms were not recorded: " + e.getMessage());
    }
    try {
      workloads
          .createGroup(group.namespace(), group.services(), pods, group.adopt())
          .forEach(created);
      return Optional.empty();
    } catch (Workloads.GroupNotCreated e) {
      return Optional.of(group.what() + " " + e.getMessage());
    }
  }

  void stop(@Observes ShutdownEvent ignored) {
    executor.shutdownNow();
  }
}
