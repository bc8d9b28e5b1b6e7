package io.gpupool.operator.billing;

import io.gpupool.billing.PairId;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * The {@link UsageForfeits} the operator runs with: the mark goes into the job's usage record
 * ({@link ConfigMapBillingStore#putForfeit}), keyed by the provider's payout address, the address
 * its pairs are settled to. Counts marks by outcome ({@code gpupool_usage_forfeits_total}).
 */
@ApplicationScoped
public class UsageForfeiter implements UsageForfeits {
  private static final Logger LOG = Logger.getLogger(UsageForfeiter.class);

  private final Supplier<ConfigMapBillingStore> store;
  private final Function<String, Optional<String>> payoutAddress;
  private final Clock clock;
  private final MeterRegistry registry;

  @Inject
  public UsageForfeiter(
      BillingService billing, ProviderDirectory providers, MeterRegistry registry) {
    this(
        billing::store,
        name ->
            providers
                .provider(name)
                .map(p -> p.getSpec() == null ? null : p.getSpec().payoutAddress),
        Clock.systemUTC(),
        registry);
  }

  UsageForfeiter(
      Supplier<ConfigMapBillingStore> store,
      Function<String, Optional<String>> payoutAddress,
      Clock clock,
      MeterRegistry registry) {
    this.store = store;
    this.payoutAddress = payoutAddress;
    this.clock = clock;
    this.registry = registry;
  }

  @Override
  public Optional<String> forfeit(JobRef job, String provider, String reason) {
    ConfigMapBillingStore s = store.get();
    if (s == null) {
      return counted("billing_off", Optional.empty());
    }
    Optional<String> address = payoutAddress.apply(provider).filter(UsageForfeiter::payable);
    if (address.isEmpty()) {
      LOG.warnf("%s: provider %s has no payout address: nothing of it to forfeit", job, provider);
      return counted("no_address", Optional.empty());
    }
    s.putForfeit(job, address.get(), clock.instant() + " " + reason);
    String line =
        "usage of this job on "
            + provider
            + " not yet settled, and all from now on, is forfeited: not paid to it, not charged";
    LOG.warnf("%s: %s (%s)", job, line, reason);
    return counted("marked", Optional.of(line));
  }

  private Optional<String> counted(String outcome, Optional<String> line) {
    Counter.builder("gpupool.usage.forfeits")
        .description("Marks forfeiting a proven cheat's usage of a job, by outcome")
        .tag("outcome", outcome.toLowerCase(Locale.ROOT))
        .register(registry)
        .increment();
    return line;
  }

  /** A payout address settlement could pay (the pairs' own check). */
  private static boolean payable(String address) {
    try {
      return !UsageMeter.NO_ADDRESS.equals(PairId.normaliseAddress(address, "provider"));
    } catch (IllegalArgumentException | NullPointerException e) {
      return false;
    }
  }
}
