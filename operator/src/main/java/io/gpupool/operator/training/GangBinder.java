package io.gpupool.operator.training;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.gpupool.operator.workload.Workloads;
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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.jboss.logging.Logger;

/**
 * Creates placed gangs off the reconcile thread, the way kube-scheduler separates its serial
 * scheduling cycle from concurrent binding: the reconciler decides and reserves GPUs in
 * microseconds, and the API round-trips of creating a Service and N pods (slow when the API server
 * is busy) no longer hold a reconcile thread or delay the decisions queued behind it.
 *
 * <p>A gang is created whole or not at all: when any pod cannot be created, the pods already
 * created are deleted before the outcome is reported, so no partial gang survives. While a job's
 * gang is being created the reconciler leaves the job alone ({@link #busy}); when creation ends the
 * job is woken and a failure is handed over once ({@link #takeFailure}).
 */
@ApplicationScoped
public class GangBinder {
  private static final Logger LOG = Logger.getLogger(GangBinder.class);

  /** API calls are I/O bound: a few concurrent bindings keep the API server busy, not flooded. */
  private static final int THREADS = 4;

  private final Workloads workloads;
  private final Timer bindTime;
  private final ExecutorService executor;
  private final Map<String, Boolean> inFlight = new ConcurrentHashMap<>();
  private final Map<String, String> failures = new ConcurrentHashMap<>();
  private final Map<String, Backoff> backoffs = new ConcurrentHashMap<>();

  /** Consecutive failed creations of one job's gangs and when the next attempt may start. */
  private record Backoff(int failures, Instant notBefore) {}

  /**
   * First wait after a failed creation; doubles with each further failure up to {@link #MAX_RETRY}.
   */
  static final Duration FIRST_RETRY = Duration.ofSeconds(5);

  static final Duration MAX_RETRY = Duration.ofMinutes(5);

  public GangBinder(Workloads workloads, MeterRegistry registry) {
    this.workloads = workloads;
    this.bindTime =
        Timer.builder("gpupool_gang_create_duration_seconds")
            .description(
                "Time to create a placed gang's Service and pods (the binding step after a"
                    + " placement decision), including rollbacks")
            .publishPercentileHistogram()
            .register(registry);
    AtomicInteger n = new AtomicInteger();
    this.executor =
        Executors.newFixedThreadPool(
            THREADS,
            r -> {
              Thread t = new Thread(r, "gpupool-gang-binder-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * A gang to create: its job (by UID), namespace, Service and pods. {@code recordTerms} records
   * the pods' billing terms where metering reads them and returns the pods with the terms written
   * on; it runs here, before the first pod, not on the reconcile thread: recording is an API write
   * (a ConfigMap), and under load a write per placement was the reconcile's p99. It throws when the
   * terms cannot be recorded: the gang is then not created (its pods would run unbilled) and fails
   * like any other creation, rolled back and retried after a backoff.
   */
  public record Gang(
      String jobUid,
      String namespace,
      Service service,
      List<Pod> pods,
      UnaryOperator<List<Pod>> recordTerms) {

    /** A gang whose pods need no terms recorded. */
    public Gang(String jobUid, String namespace, Service service, List<Pod> pods) {
      this(jobUid, namespace, service, pods, UnaryOperator.identity());
    }
  }

  /**
   * Creates {@code gang} in the background. {@code created} receives each pod as the server stored
   * it once the whole gang exists (the controller's pod cache shows it from then on, before the
   * watch delivers it); {@code rolledBack} runs after a failed creation was undone (release the
   * GPUs there); {@code done} runs after every outcome (wake the job there).
   */
  public void bind(Gang gang, Consumer<Pod> created, Consumer<String> rolledBack, Runnable done) {
    inFlight.put(gang.jobUid(), Boolean.TRUE);
    try {
      executor.execute(() -> run(gang, created, rolledBack, done));
    } catch (RuntimeException e) {
      inFlight.remove(gang.jobUid());
      throw e;
    }
  }

  /** True while the job's gang is being created. */
  public boolean busy(String jobUid) {
    return inFlight.containsKey(jobUid);
  }

  /**
   * How long the job must still wait before its next gang may be created, after failed attempts (5
   * s, doubling to 5 min): a permanent cause (a name taken, a quota) must not spin.
   */
  public Optional<Duration> holdOff(String jobUid, Instant now) {
    Backoff b = backoffs.get(jobUid);
    if (b == null || !now.isBefore(b.notBefore())) {
      return Optional.empty();
    }
    return Optional.of(Duration.between(now, b.notBefore()));
  }

  /** Forgets a deleted job. */
  public void forget(String jobUid) {
    backoffs.remove(jobUid);
    failures.remove(jobUid);
  }

  /** Why the job's last gang could not be created, once; empty when it was or none failed. */
  public Optional<String> takeFailure(String jobUid) {
    return Optional.ofNullable(failures.remove(jobUid));
  }

  private void run(Gang gang, Consumer<Pod> created, Consumer<String> rolledBack, Runnable done) {
    long start = System.nanoTime();
    try {
      Optional<String> failure = create(gang, created);
      if (failure.isPresent()) {
        failed(gang.jobUid(), failure.get(), rolledBack);
      } else {
        backoffs.remove(gang.jobUid());
      }
    } catch (RuntimeException e) {
      LOG.errorf(e, "creating the gang of job %s failed unexpectedly", gang.jobUid());
      failed(gang.jobUid(), "gang creation failed: " + e.getMessage(), rolledBack);
    } finally {
      inFlight.remove(gang.jobUid());
      bindTime.record(Duration.ofNanos(System.nanoTime() - start));
      done.run();
    }
  }

  private void failed(String jobUid, String why, Consumer<String> rolledBack) {
    Backoff previous = backoffs.get(jobUid);
    int count = previous == null ? 1 : previous.failures() + 1;
    Duration wait = FIRST_RETRY.multipliedBy(1L << Math.min(count - 1, 10));
    if (wait.compareTo(MAX_RETRY) > 0) {
      wait = MAX_RETRY;
    }
    // Recorded before the GPUs are released: the release wakes waiting jobs, this one included.
    backoffs.put(jobUid, new Backoff(count, Instant.now().plus(wait)));
    failures.put(jobUid, why + " (attempt " + count + "; next in " + wait.toSeconds() + "s)");
    rolledBack.accept(why);
  }

  /** Creates the gang whole; on failure the port has deleted what was created; says why. */
  Optional<String> create(Gang gang) {
    return create(gang, pod -> {});
  }

  private Optional<String> create(Gang gang, Consumer<Pod> created) {
    List<Pod> pods;
    try {
      pods = gang.recordTerms().apply(gang.pods());
    } catch (RuntimeException e) {
      return Optional.of(
          "gang not created: its billing terms were not recorded: " + e.getMessage());
    }
    try {
      workloads
          .createGroup(gang.namespace(), List.of(gang.service()), pods, GangBinder::sameRank)
          .forEach(created);
      return Optional.empty();
    } catch (Workloads.GroupNotCreated e) {
      return Optional.of("gang " + e.getMessage());
    }
  }

  /**
   * An existing pod of the same name is this gang's when it belongs to the same gang generation on
   * the same node: a retried binding (its status write lost) then converges instead of failing or
   * duplicating the gang.
   */
  private static boolean sameRank(Pod wanted, Pod existing) {
    String generation = wanted.getMetadata().getLabels().get(TrainingGang.GENERATION_LABEL);
    return generation.equals(existing.getMetadata().getLabels().get(TrainingGang.GENERATION_LABEL))
        && wanted.getSpec().getNodeName().equals(existing.getSpec().getNodeName());
  }

  void stop(@Observes ShutdownEvent ignored) {
    executor.shutdownNow();
  }
}
