package io.gpupool.operator.inventory;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.GpuPrice;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.billing.TokenUnits;
import io.javaoperatorsdk.operator.health.InformerHealthIndicator;
import io.javaoperatorsdk.operator.health.InformerWrappingEventSourceHealthIndicator;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import jakarta.enterprise.context.ApplicationScoped;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** The registered GpuProviders: their prices and reliability, as placement needs them. */
@ApplicationScoped
public class ProviderDirectory {
  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
  private final Map<String, Seen> seen = new ConcurrentHashMap<>();
  private volatile IndexerResourceCache<GpuProvider> cache;

  /** The controller's cache has listed the providers (latched: provider lookups are hot). */
  private volatile boolean listed;

  /** What listeners were last told of a provider. */
  private record Seen(String spec, double reliability, boolean stakeSufficient) {}

  /**
   * Reads from the GpuProvider controller's own cache from now on: the operator watches
   * GpuProviders once, for the controller, and the directory shares that watch.
   */
  public void readFrom(IndexerResourceCache<GpuProvider> controllerCache) {
    this.cache = controllerCache;
    this.listed = false;
  }

  /**
   * True once the controller's cache has listed the providers. Before its informers start the cache
   * has none (and cannot be read: JOSDK's event source fails with a NullPointerException).
   */
  public boolean synced() {
    if (listed) {
      return true; // an informer stays synced once it has listed: not asked again per lookup
    }
    IndexerResourceCache<GpuProvider> c = cache;
    boolean now;
    if (c instanceof InformerWrappingEventSourceHealthIndicator<?> health) {
      var informers = health.informerHealthIndicators().values();
      now = !informers.isEmpty() && informers.stream().allMatch(InformerHealthIndicator::hasSynced);
    } else {
      now = c != null;
    }
    listed = now;
    return now;
  }

  /** Every registered provider (none before the controller's cache has listed them). */
  public List<GpuProvider> all() {
    IndexerResourceCache<GpuProvider> c = cache;
    return c == null || !synced() ? List.of() : c.list().toList();
  }

  public Optional<GpuProvider> provider(String name) {
    IndexerResourceCache<GpuProvider> c = cache;
    return c == null || !synced() ? Optional.empty() : c.get(new ResourceID(name));
  }

  /**
   * The GpuProvider controller reports each provider it reconciles, its status as just computed:
   * listeners hear of a provider that is new, re-priced or more reliable (see {@link
   * #mayAdmitMore}), and of providers that have left the cache since the last report.
   */
  public void observed(GpuProvider p) {
    String name = p.getMetadata().getName();
    Seen now = new Seen(Serialization.asJson(p.getSpec()), reliability(p), stakeSufficient(p));
    Seen before = seen.put(name, now);
    if (before == null
        || !Objects.equals(before.spec(), now.spec())
        || mayAdmitMore(before.reliability(), now.reliability())
        || (now.stakeSufficient() && !before.stakeSufficient())) {
      changed(name);
    }
    for (String known : List.copyOf(seen.keySet())) {
      if (!known.equals(name) && provider(known).isEmpty() && seen.remove(known) != null) {
        changed(known);
      }
    }
  }

  /** The provider's stake covers what placement requires (a rise can let waiting jobs fit). */
  private static boolean stakeSufficient(GpuProvider p) {
    return p.getStatus() != null
        && p.getStatus().stake != null
        && Boolean.TRUE.equals(p.getStatus().stake.sufficient);
  }

  /** The provider's price for one GPU-hour of {@code product}, if it prices it. */
  public Optional<BigDecimal> price(String provider, String product) {
    return provider(provider)
        .map(GpuProvider::getSpec)
        .filter(spec -> spec.prices != null)
        .flatMap(spec -> priceOf(spec.prices, product));
  }

  /**
   * The provider's price for one GPU-hour of {@code product} in wei, the one conversion billing and
   * admission share; empty when it does not price it or the price is not a whole number of wei
   * (more than 18 decimals, negative), so every caller treats an unusable price as no price.
   */
  public Optional<BigInteger> weiPerGpuHour(String provider, String product) {
    return price(provider, product).flatMap(ProviderDirectory::toWei);
  }

  private static Optional<BigInteger> toWei(BigDecimal price) {
    try {
      return Optional.of(TokenUnits.toWei(price));
    } catch (IllegalArgumentException | ArithmeticException e) {
      return Optional.empty();
    }
  }

  private static Optional<BigDecimal> priceOf(List<GpuPrice> prices, String product) {
    for (GpuPrice p : prices) {
      if (product.equals(p.gpuProduct) && p.pricePerGpuHour != null) {
        try {
          return Optional.of(new BigDecimal(p.pricePerGpuHour));
        } catch (NumberFormatException e) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }

  /** Reliability score of a provider; a provider not yet scored counts as fully reliable. */
  public double reliability(String provider) {
    return provider(provider).map(ProviderDirectory::reliability).orElse(1.0);
  }

  /**
   * True when a reliability change can make a waiting job placeable: only a rise can (it may cross
   * a job's minReliability), and only a rise to the next hundredth counts, because the score creeps
   * up with every minute of uptime and each notice re-plans every pending job.
   */
  static boolean mayAdmitMore(double before, double after) {
    return Math.floor(after * 100) > Math.floor(before * 100);
  }

  private static double reliability(GpuProvider p) {
    return p.getStatus() == null
            || p.getStatus().reliability == null
            || p.getStatus().reliability.score == null
        ? 1.0
        : p.getStatus().reliability.score;
  }

  /** Tells {@code listener} the name of every provider that is added, changed or removed. */
  public void onChange(Consumer<String> listener) {
    listeners.add(listener);
  }

  private void changed(String name) {
    listeners.forEach(l -> l.accept(name));
  }
}
