package io.gpupool.operator.billing;

import io.gpupool.api.v1alpha1.Earnings;
import io.gpupool.api.v1alpha1.ProviderUsage;
import io.gpupool.api.v1alpha1.Usage;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.ledger.PairLedger;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The figures status shows, summed from the usage store: a job's usage (GPU-seconds, cost and
 * settled amount, per provider) and a provider's earnings over every job the store still holds.
 * Pairs name providers by payout address; the pod records name them by GpuProvider.
 */
final class UsageFigures {
  private final ConfigMapBillingStore store;
  private final String tokenSymbol;

  UsageFigures(ConfigMapBillingStore store, String tokenSymbol) {
    this.store = store;
    this.tokenSymbol = tokenSymbol;
  }

  /**
   * Cumulative usage of a job (by UID) for its status: GPU-seconds, cost and settled amount in
   * token units, and per provider in wei. Empty when nothing was metered for it.
   */
  Optional<Usage> usage(String jobUid) {
    List<PairLedger> pairs = store.pairs(jobUid);
    if (pairs.isEmpty()) {
      return Optional.empty();
    }
    Map<String, String> names = providerNames(jobUid);
    Map<String, long[]> time = new TreeMap<>();
    Map<String, BigInteger[]> money = new TreeMap<>();
    long totalTime = 0;
    BigInteger cost = BigInteger.ZERO;
    BigInteger settled = BigInteger.ZERO;
    for (PairLedger l : pairs) {
      String name = names.getOrDefault(l.pair().provider(), l.pair().provider());
      time.computeIfAbsent(name, n -> new long[1])[0] += l.milliGpuMillis();
      BigInteger[] m =
          money.computeIfAbsent(name, n -> new BigInteger[] {BigInteger.ZERO, BigInteger.ZERO});
      m[0] = m[0].add(l.meteredWei());
      m[1] = m[1].add(l.settledWei());
      totalTime += l.milliGpuMillis();
      cost = cost.add(l.meteredWei());
      settled = settled.add(l.settledWei());
    }
    Usage u = new Usage();
    u.gpuSeconds = gpuSeconds(totalTime);
    u.cost = TokenUnits.fromWei(cost).toPlainString();
    u.costWei = cost.toString();
    u.costDisplay = TokenUnits.display(cost, tokenSymbol);
    u.settled = TokenUnits.fromWei(settled).toPlainString();
    u.settledWei = settled.toString();
    u.byProvider = new ArrayList<>();
    for (String name : time.keySet()) {
      ProviderUsage p = new ProviderUsage();
      p.provider = name;
      p.gpuSeconds = gpuSeconds(time.get(name)[0]);
      p.costWei = money.get(name)[0].toString();
      p.settledWei = money.get(name)[1].toString();
      u.byProvider.add(p);
    }
    return Optional.of(u);
  }

  /** What a GpuProvider (by name) has earned over every job the store still holds. */
  Earnings earnings(String providerName) {
    long time = 0;
    BigInteger accrued = BigInteger.ZERO;
    BigInteger paid = BigInteger.ZERO;
    for (String uid : store.jobUids()) {
      Map<String, String> names = providerNames(uid);
      for (PairLedger l : store.pairs(uid)) {
        if (providerName.equals(names.get(l.pair().provider()))) {
          time += l.milliGpuMillis();
          accrued = accrued.add(l.meteredWei());
          paid = paid.add(l.settledWei());
        }
      }
    }
    Earnings e = new Earnings();
    e.accrued = TokenUnits.fromWei(accrued).toPlainString();
    e.settled = TokenUnits.fromWei(paid).toPlainString();
    e.gpuSeconds = gpuSeconds(time);
    return e;
  }

  /** Payout address -> GpuProvider name, from the job's pod records. */
  Map<String, String> providerNames(String jobUid) {
    Map<String, String> names = new HashMap<>();
    store
        .pods(jobUid)
        .values()
        .forEach(r -> names.put(r.lifetime().pair().provider(), r.providerName()));
    return names;
  }

  private static String gpuSeconds(long milliGpuMillis) {
    BigDecimal s = BigDecimal.valueOf(milliGpuMillis, 6).stripTrailingZeros();
    return (s.scale() < 0 ? s.setScale(0) : s).toPlainString();
  }
}
