package io.gpupool.operator.billing;

import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.api.v1alpha1.ProviderStake;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.chain.ChainException;
import io.gpupool.billing.chain.StakeState;
import io.gpupool.billing.chain.TrustChain;
import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.config.Periodic;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Providers' stakes as last read from the chain (every {@code gpupool.trust.stake-refresh}, while
 * billing runs), the stake gate placement applies, and the {@code status.stake} the GpuProvider
 * controller writes. A provider's chain address is its {@code spec.payoutAddress}, the address its
 * usage is settled to.
 */
@ApplicationScoped
public class ProviderStakes {
  private static final Logger LOG = Logger.getLogger(ProviderStakes.class);

  /** A stake read at {@code observedAt}. */
  public record Reading(StakeState stake, Instant observedAt) {}

  private final BillingService billing;
  private final ProviderDirectory providers;
  private final GpupoolConfig.Trust settings;
  private final MeterRegistry registry;
  private final StakeGate gate;
  private final Clock clock = Clock.systemUTC();
  private final Map<String, Reading> readings = new ConcurrentHashMap<>();
  private final Map<String, Boolean> failing = new ConcurrentHashMap<>();
  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
  private volatile ScheduledExecutorService timer;

  public ProviderStakes(
      BillingService billing,
      ProviderDirectory providers,
      GpupoolConfig config,
      MeterRegistry registry) {
    this.billing = billing;
    this.providers = providers;
    this.settings = config.trust();
    this.registry = registry;
    this.gate =
        new StakeGate(TokenUnits.toWei(settings.minStakePerGpu()), config.billing().tokenSymbol());
  }

  void start(@Observes StartupEvent ignored) {
    timer = Periodic.daemon("gpupool-stakes");
    Periodic.every(
        timer, Duration.ofSeconds(1), settings.stakeRefresh(), "reading stakes", this::refresh);
    // A leader reaches the chain late when its RPC endpoint erred at first: read the stakes then,
    // not a refresh period later, so the stake gate stops leaving every provider out.
    billing.onChainConnected(() -> timer.execute(this::refresh));
    // A provider that appears (or whose stake was never read) is read at once, not a refresh
    // period later: until then the stake gate leaves its nodes out, and a job arriving meanwhile
    // is placed without them (the sandbox's providers appear just after the first reading).
    providers.onChange(
        name -> {
          if (!readings.containsKey(name)) {
            timer.execute(() -> read(name));
          }
        });
  }

  void stop(@Observes ShutdownEvent ignored) {
    if (timer != null) {
      timer.shutdownNow();
    }
  }

  /** Runs {@code listener} with a provider's name when its stake as read has changed. */
  public void onChange(Consumer<String> listener) {
    listeners.add(listener);
  }

  public StakeGate gate() {
    return gate;
  }

  /** The provider's last read stake (empty: never read, or billing off). */
  public Optional<Reading> reading(String provider) {
    return Optional.ofNullable(readings.get(provider));
  }

  /** Committed stake in wei, as the gate wants it. */
  public Optional<BigInteger> committedWei(String provider) {
    return reading(provider).map(r -> r.stake().committedWei());
  }

  /** Node name to reason for the nodes placement must leave out for stake (empty: gate off). */
  public Map<String, String> excludedNodes(Collection<GpuNode> nodes) {
    return gate.excludedNodes(nodes, this::committedWei);
  }

  /**
   * {@code status.stake} of a provider offering {@code gpus} GPUs; null while nothing was read and
   * the gate is off (nothing to say).
   */
  public ProviderStake status(String provider, int gpus) {
    Reading r = readings.get(provider);
    if (r == null && !gate.enabled()) {
      return null;
    }
    ProviderStake s = new ProviderStake();
    if (r != null) {
      s.staked = TokenUnits.fromWei(r.stake().committedWei()).toPlainString();
      s.unstaking = TokenUnits.fromWei(r.stake().unstakingWei()).toPlainString();
      s.observedAt = r.observedAt().toString();
    }
    if (gate.enabled()) {
      BigInteger need = gate.required(gpus);
      s.required = TokenUnits.fromWei(need).toPlainString();
      s.sufficient = r != null && r.stake().committedWei().compareTo(need) >= 0;
    }
    return s;
  }

  /** Read every provider's stake now (no-op while billing is off). */
  public void refresh() {
    Optional<TrustChain> chain = billing.trustChain();
    if (chain.isEmpty()) {
      return;
    }
    for (GpuProvider p : providers.all()) {
      read(chain.get(), p);
    }
  }

  /** Reads one provider's stake now, if billing runs and the provider is known. */
  private void read(String provider) {
    Optional<TrustChain> chain = billing.trustChain();
    if (chain.isEmpty() || readings.containsKey(provider)) {
      return;
    }
    providers.provider(provider).ifPresent(p -> read(chain.get(), p));
  }

  private void read(TrustChain chain, GpuProvider p) {
    String name = p.getMetadata().getName();
    String address = p.getSpec() == null ? null : p.getSpec().payoutAddress;
    if (address == null || !address.matches("0x[0-9a-fA-F]{40}")) {
      return;
    }
    try {
      StakeState stake = chain.stake(address);
      Reading before = readings.put(name, new Reading(stake, clock.instant()));
      if (before == null || !before.stake().equals(stake)) {
        listeners.forEach(l -> l.accept(name));
      }
      if (before == null) {
        Gauge.builder(
                "gpupool.provider.stake.tokens",
                readings,
                m ->
                    m.containsKey(name)
                        ? TokenUnits.fromWei(m.get(name).stake().committedWei()).doubleValue()
                        : Double.NaN)
            .description("Committed stake of the provider on chain, in tokens")
            .tag("provider", name)
            .register(registry);
      }
      failing.remove(name);
    } catch (ChainException e) {
      // Keep the last reading: a chain hiccup must not drop a staked provider from placement.
      if (failing.put(name, true) == null) {
        LOG.warnf(
            "reading the stake of provider %s (%s) failed: %s", name, address, e.getMessage());
      }
    }
  }
}
