package io.gpupool.operator.inventory;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.gpupool.api.v1alpha1.GpuPrice;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.billing.TokenUnits;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** The registered GpuProviders: their prices and reliability, as placement needs them. */
@ApplicationScoped
public class ProviderDirectory {
  private final KubernetesClient client;
  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
  private volatile SharedIndexInformer<GpuProvider> informer;

  public ProviderDirectory(KubernetesClient client) {
    this.client = client;
  }

  void start(@Observes StartupEvent ignored) {
    informer =
        client
            .resources(GpuProvider.class)
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(GpuProvider p) {
                    changed(p);
                  }

                  @Override
                  public void onUpdate(GpuProvider old, GpuProvider p) {
                    if (!java.util.Objects.equals(old.getSpec(), p.getSpec())
                        || mayAdmitMore(reliability(old), reliability(p))
                        || stakeNowSufficient(old, p)) {
                      changed(p);
                    }
                  }

                  @Override
                  public void onDelete(GpuProvider p, boolean unknown) {
                    changed(p);
                  }
                },
                0);
  }

  void stop(@Observes ShutdownEvent ignored) {
    if (informer != null) {
      informer.stop();
    }
  }

  /** The provider's stake came to cover what placement requires: jobs waiting may fit now. */
  private static boolean stakeNowSufficient(GpuProvider old, GpuProvider p) {
    return sufficient(p) && !sufficient(old);
  }

  private static boolean sufficient(GpuProvider p) {
    return p.getStatus() != null
        && p.getStatus().stake != null
        && Boolean.TRUE.equals(p.getStatus().stake.sufficient);
  }

  public boolean synced() {
    return informer != null && informer.hasSynced();
  }

  /** Every registered provider. */
  public List<GpuProvider> all() {
    return informer == null ? List.of() : informer.getStore().list();
  }

  public Optional<GpuProvider> provider(String name) {
    return informer == null
        ? Optional.empty()
        : Optional.ofNullable(informer.getStore().getByKey(name));
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

  private void changed(GpuProvider p) {
    listeners.forEach(l -> l.accept(p.getMetadata().getName()));
  }
}
