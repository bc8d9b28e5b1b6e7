package io.gpupool.operator.inference;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the inference autoscaler sees and decides, per job (Prometheus names in brackets, listed in
 * docs/inference.md and docs/observability.md): desired and ready replicas
 * [gpupool_inference_replicas_desired, gpupool_inference_replicas_ready], the in-flight requests
 * its last scrape read in total and per ready replica [gpupool_inference_inflight_requests,
 * gpupool_inference_inflight_requests_per_replica] next to the target
 * [gpupool_inference_inflight_requests_target], and scale decisions by direction
 * [gpupool_inference_scale_events_total{direction="up"|"down"}], and the weights fetches of its
 * pods that found the weights in the node's cache or pulled them
 * [gpupool_inference_cache_hits_total, gpupool_inference_cache_misses_total].
 *
 * <p>Gauges are rows keyed by job, so a deleted job's series disappear instead of freezing at their
 * last value.
 */
@ApplicationScoped
public class InferenceMetrics {
  /** Direction tag of a scale-up. */
  public static final String UP = "up";

  /** Direction tag of a scale-down. */
  public static final String DOWN = "down";

  private final MeterRegistry registry;
  private final Series desired;
  private final Series ready;
  private final Series inFlight;
  private final Series perReplica;
  private final Series target;
  private final Set<List<String>> countersExported = ConcurrentHashMap.newKeySet();

  public InferenceMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.desired =
        new Series(registry, "gpupool.inference.replicas.desired", "replicas the autoscaler wants");
    this.ready =
        new Series(
            registry, "gpupool.inference.replicas.ready", "replicas ready behind the Service");
    this.inFlight =
        new Series(
            registry,
            "gpupool.inference.inflight.requests",
            "in-flight requests the ready replicas reported at the last scrape, summed");
    this.perReplica =
        new Series(
            registry,
            "gpupool.inference.inflight.requests.per.replica",
            "in-flight requests per reporting replica at the last scrape (compared to the target)");
    this.target =
        new Series(
            registry,
            "gpupool.inference.inflight.requests.target",
            "spec.autoscaling.targetInFlightRequests");
  }

  /** Records the job's replica counts after a reconcile. */
  public void replicas(String namespace, String job, int desiredReplicas, int readyReplicas) {
    exportCountersAtZero(namespace, job);
    desired.set(namespace, job, desiredReplicas);
    ready.set(namespace, job, readyReplicas);
  }

  /** Records one scrape of the job's replicas: {@code reporting} replicas answered. */
  public void load(String namespace, String job, double sum, int reporting, int targetPerReplica) {
    target.set(namespace, job, targetPerReplica);
    if (reporting == 0) {
      // No replica answered: no reading, rather than a zero that looks like an idle job.
      inFlight.remove(namespace, job);
      perReplica.remove(namespace, job);
      return;
    }
    inFlight.set(namespace, job, sum);
    perReplica.set(namespace, job, sum / reporting);
  }

  /** Counts a scale decision ({@link #UP} or {@link #DOWN}). */
  public void scaled(String namespace, String job, String direction) {
    scaleEvents(namespace, job, direction).increment();
  }

  /** Counts pods whose weights fetch found them on the node ({@code hits}) or pulled them. */
  public void cache(String namespace, String job, int hits, int misses) {
    if (hits > 0) {
      cacheHits(namespace, job).increment(hits);
    }
    if (misses > 0) {
      cacheMisses(namespace, job).increment(misses);
    }
  }

  /**
   * A job's counters exist at 0 from its first reconcile: increase() cannot see a counter whose
   * first sample already counts the event, and a dashboard panel or alert would read "no data".
   */
  private void exportCountersAtZero(String namespace, String job) {
    if (countersExported.add(List.of(namespace, job))) {
      scaleEvents(namespace, job, UP);
      scaleEvents(namespace, job, DOWN);
      cacheHits(namespace, job);
      cacheMisses(namespace, job);
    }
  }

  private Counter scaleEvents(String namespace, String job, String direction) {
    return Counter.builder("gpupool.inference.scale.events")
        .description("autoscaler decisions that changed the desired replica count")
        .tags("namespace", namespace, "job", job, "direction", direction)
        .register(registry);
  }

  private Counter cacheHits(String namespace, String job) {
    return Counter.builder("gpupool.inference.cache.hits")
        .description("pods that found their model weights in the node's cache")
        .tags("namespace", namespace, "job", job)
        .register(registry);
  }

  private Counter cacheMisses(String namespace, String job) {
    return Counter.builder("gpupool.inference.cache.misses")
        .description("pods that pulled their model weights (the node did not hold them)")
        .tags("namespace", namespace, "job", job)
        .register(registry);
  }

  /** Drops a deleted job's gauges (its counters stay, as counters do). */
  public void forget(String namespace, String job) {
    for (Series s : List.of(desired, ready, inFlight, perReplica, target)) {
      s.remove(namespace, job);
    }
  }

  /** One gauge name with a row per (namespace, job). */
  private static final class Series {
    private final MultiGauge gauge;
    private final Map<List<String>, Double> values = new ConcurrentHashMap<>();

    Series(MeterRegistry registry, String name, String description) {
      this.gauge = MultiGauge.builder(name).description(description).register(registry);
    }

    void set(String namespace, String job, double value) {
      Double before = values.put(List.of(namespace, job), value);
      if (before == null || !before.equals(value)) {
        publish();
      }
    }

    void remove(String namespace, String job) {
      if (values.remove(List.of(namespace, job)) != null) {
        publish();
      }
    }

    private synchronized void publish() {
      List<MultiGauge.Row<?>> rows = new ArrayList<>();
      values.forEach(
          (key, value) ->
              rows.add(
                  MultiGauge.Row.of(Tags.of("namespace", key.get(0), "job", key.get(1)), value)));
      gauge.register(rows, true);
    }
  }
}
