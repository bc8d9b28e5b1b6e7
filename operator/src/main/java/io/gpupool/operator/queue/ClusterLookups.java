package io.gpupool.operator.queue;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.scheduling.v1.PriorityClass;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * PriorityClass values and namespace labels read with a GET each, remembered for a minute: both
 * change rarely, and a watch over every namespace would cost more than the few reads admission
 * makes.
 */
@ApplicationScoped
public class ClusterLookups implements PriorityClasses, NamespaceLabels {
  private static final Logger LOG = Logger.getLogger(ClusterLookups.class);
  private static final Duration TTL = Duration.ofSeconds(60);

  private final KubernetesClient client;
  private final Clock clock = Clock.systemUTC();
  private final Map<String, Cached<OptionalInt>> priorities = new ConcurrentHashMap<>();
  private final Map<String, Cached<Map<String, String>>> labels = new ConcurrentHashMap<>();

  private record Cached<T>(T value, Instant until) {}

  public ClusterLookups(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public OptionalInt value(String name) {
    return cached(
        priorities,
        name,
        n -> {
          PriorityClass pc = client.resources(PriorityClass.class).withName(n).get();
          return pc == null || pc.getValue() == null
              ? OptionalInt.empty()
              : OptionalInt.of(pc.getValue());
        },
        OptionalInt.empty());
  }

  @Override
  public Map<String, String> of(String namespace) {
    return cached(
        labels,
        namespace,
        n -> {
          Namespace ns = client.namespaces().withName(n).get();
          return ns == null || ns.getMetadata().getLabels() == null
              ? Map.of()
              : Map.copyOf(ns.getMetadata().getLabels());
        },
        Map.of());
  }

  private <T> T cached(
      Map<String, Cached<T>> cache, String key, Function<String, T> read, T unreadable) {
    Instant now = clock.instant();
    Cached<T> hit = cache.get(key);
    if (hit != null && hit.until().isAfter(now)) {
      return hit.value();
    }
    T value;
    try {
      value = read.apply(key);
    } catch (KubernetesClientException e) {
      LOG.warnf("cannot read %s (%s); treating it as absent", key, e.getMessage());
      value = unreadable;
    }
    cache.put(key, new Cached<>(value, now.plus(TTL)));
    return value;
  }
}
