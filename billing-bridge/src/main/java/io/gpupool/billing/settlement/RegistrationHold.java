package io.gpupool.billing.settlement;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.chain.BillingChain;
import io.gpupool.billing.chain.ProviderRegistrations;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Holds back the usage of providers that have not registered a payout address on chain (the
 * contract would only record it as owed): a provider found unregistered is asked again after {@link
 * SettlementConfig#recheckInterval}, or at once when a {@code ProviderRegistered} event names it; a
 * registered one is remembered (registration is final).
 */
final class RegistrationHold {

  private static final System.Logger LOG = System.getLogger(RegistrationHold.class.getName());

  private final SettlementConfig config;
  private final BillingChain chain;
  private final Set<String> registered = ConcurrentHashMap.newKeySet();
  private final Map<String, Instant> unregisteredCheckedAt = new ConcurrentHashMap<>();
  private volatile Set<PairId> held = Set.of();

  /**
   * Next block to read {@code ProviderRegistered} events from while some provider is held; -1 when
   * none is (set just before a provider is first found unregistered, so no registration after that
   * answer is missed).
   */
  private long registrationCursor = -1;

  RegistrationHold(SettlementConfig config, BillingChain chain) {
    this.config = config;
    this.chain = chain;
  }

  /** Pairs held back as of the last {@link #payable} call. */
  Set<PairId> held() {
    return held;
  }

  /**
   * Drop items whose provider has not registered on chain: the contract would only record them as
   * owed. A provider found unregistered is asked again after {@link
   * SettlementConfig#recheckInterval}; a registered one is remembered (registration is final).
   */
  List<SettlementItem> payable(List<SettlementItem> items, Instant now) {
    List<SettlementItem> payable = new ArrayList<>(items.size());
    Set<PairId> heldNow = new HashSet<>();
    for (SettlementItem item : items) {
      String provider = item.pair().provider();
      if (isRegistered(provider, now)) {
        payable.add(item);
      } else {
        heldNow.add(item.pair());
      }
    }
    held = Set.copyOf(heldNow);
    return payable;
  }

  private boolean isRegistered(String provider, Instant now) {
    if (registered.contains(provider)) {
      return true;
    }
    Instant checked = unregisteredCheckedAt.get(provider);
    if (checked != null && now.isBefore(checked.plus(config.recheckInterval()))) {
      return false;
    }
    if (registrationCursor < 0) {
      registrationCursor = chain.latestBlock();
    }
    if (chain.isProviderRegistered(provider)) {
      registered.add(provider);
      unregisteredCheckedAt.remove(provider);
      return true;
    }
    if (checked == null) {
      LOG.log(
          System.Logger.Level.WARNING,
          "provider {0} has not registered a payout address on chain: its usage is held until it"
              + " does (checked again every {1})",
          provider,
          config.recheckInterval());
    }
    unregisteredCheckedAt.put(provider, now);
    return false;
  }

  /**
   * While providers are held, read the {@code ProviderRegistered} events since the last round: a
   * provider that registered is asked again at once, so its held pairs go out this round instead of
   * after {@link SettlementConfig#recheckInterval}.
   */
  void watch() {
    if (unregisteredCheckedAt.isEmpty()) {
      registrationCursor = -1;
      return;
    }
    if (registrationCursor < 0) {
      return;
    }
    ProviderRegistrations r = chain.providerRegistrations(registrationCursor);
    for (String provider : r.providers()) {
      if (unregisteredCheckedAt.containsKey(provider)) {
        LOG.log(System.Logger.Level.INFO, "provider {0} registered: its usage is sent", provider);
        providerRegistered(provider);
      }
    }
    registrationCursor = r.toBlock() + 1;
  }

  /** Look the provider's registration up again next round (e.g. on ProviderRegistered). */
  public void providerRegistered(String provider) {
    unregisteredCheckedAt.remove(PairId.normaliseAddress(provider, "provider"));
  }
}
