package io.gpupool.billing.ledger;

import io.gpupool.billing.PairId;
import io.gpupool.billing.metering.Metering;
import io.gpupool.billing.metering.PairUsage;
import io.gpupool.billing.metering.PodLifetime;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Meters pod lifetimes into the store and answers the totals the operator shows (job cost, provider
 * earnings, payer outstanding). Every pair with metered cost above its settled cursor is in the
 * settlement outbox.
 */
public final class BillingLedger {

  private final BillingStore store;

  public BillingLedger(BillingStore store) {
    this.store = Objects.requireNonNull(store, "store");
  }

  public BillingStore store() {
    return store;
  }

  /**
   * Meter {@code pods} as of {@code observedAt} and raise the stored cumulative figures. Pass every
   * pod lifetime of the affected jobs, finished ones included: a pair's total is computed from the
   * pods given, and a smaller total than stored is ignored (figures never go down).
   *
   * @return the stored figures of every pair the pods belong to
   */
  public List<PairLedger> record(Collection<PodLifetime> pods, Instant observedAt) {
    Map<PairId, PairUsage> usage = Metering.meter(pods, observedAt);
    List<PairLedger> result = new ArrayList<>(usage.size());
    for (PairUsage u : usage.values()) {
      result.add(store.update(u.pair(), l -> l.withMetered(u.milliGpuMillis(), u.costWei())));
    }
    return result;
  }

  /** The pairs whose metered cost is ahead of what the chain has paid. */
  public List<PairLedger> pending() {
    return store.all().stream()
        .filter(PairLedger::pending)
        .sorted((a, b) -> a.pair().compareTo(b.pair()))
        .toList();
  }

  /** Cumulative metered cost of a job, over all its pairs, in wei. */
  public BigInteger jobCostWei(String jobId) {
    return sum(store.all().stream().filter(l -> l.pair().jobId().equals(jobId)).toList(), true);
  }

  /** Cumulative wei the chain has paid to a provider (its earnings), over all pairs. */
  public BigInteger providerEarnedWei(String provider) {
    String p = PairId.normaliseAddress(provider, "provider");
    return sum(store.all().stream().filter(l -> l.pair().provider().equals(p)).toList(), false);
  }

  /** Metered but not yet settled cost charged to a payer, in wei. */
  public BigInteger payerOutstandingWei(String payer) {
    String p = PairId.normaliseAddress(payer, "payer");
    return store.all().stream()
        .filter(l -> l.pair().payer().equals(p))
        .map(PairLedger::unsettledWei)
        .reduce(BigInteger.ZERO, BigInteger::add);
  }

  private static BigInteger sum(List<PairLedger> ledgers, boolean metered) {
    return ledgers.stream()
        .map(l -> metered ? l.meteredWei() : l.settledWei())
        .reduce(BigInteger.ZERO, BigInteger::add);
  }
}
