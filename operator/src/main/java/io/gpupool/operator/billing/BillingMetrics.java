package io.gpupool.operator.billing;

import io.gpupool.billing.PairId;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.ledger.PairLedger;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.math.BigInteger;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Billing metrics as docs/observability.md names them. Metered and settled counters grow by what
 * each pair's cumulative figures grew since the last refresh, so they are exact however often
 * metering runs; token amounts are in token units (ether, not wei).
 */
public final class BillingMetrics {
  static final List<String> RESULTS = List.of("success", "reverted", "failed");
  static final List<String> OPERATIONS =
      List.of(
          "sendTransaction",
          "getReceipt",
          "getTransaction",
          "getTransactionCount",
          "getLogs",
          "call",
          "blockNumber");

  private record Seen(long milliGpuMillis, BigInteger meteredWei, BigInteger settledWei) {}

  private final MeterRegistry registry;
  private final Map<PairId, Seen> seen = new HashMap<>();
  private final Map<String, AtomicReference<Double>> escrow = new ConcurrentHashMap<>();
  private final AtomicReference<Double> backlogPairs = new AtomicReference<>(0.0);
  private final AtomicReference<Double> backlogAmount = new AtomicReference<>(0.0);
  private final AtomicReference<Double> setAsidePairs = new AtomicReference<>(0.0);
  private final AtomicReference<Double> oldestUnconfirmed = new AtomicReference<>(0.0);
  private final AtomicReference<Double> heldUnregistered = new AtomicReference<>(0.0);
  private final Map<String, AtomicReference<Double>> setAsideByJob = new ConcurrentHashMap<>();
  private final Timer txDuration;
  private final Counter unexpectedFailures;

  public BillingMetrics(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder("gpupool.settlement.backlog.pairs", backlogPairs, AtomicReference::get)
        .description("(job, provider) pairs with unsettled usage")
        .register(registry);
    Gauge.builder("gpupool.settlement.backlog.amount", backlogAmount, AtomicReference::get)
        .description("unsettled amount, token units")
        .register(registry);
    Gauge.builder("gpupool.settlement.pairs.set.aside", setAsidePairs, AtomicReference::get)
        .description("(job, provider) pairs set aside: unencodable or rejected alone repeatedly")
        .register(registry);
    Gauge.builder(
            "gpupool.settlement.oldest.unconfirmed.seconds",
            oldestUnconfirmed,
            AtomicReference::get)
        .description("age of the oldest settlement transaction not yet confirmed at depth")
        .register(registry);
    Gauge.builder(
            "gpupool.settlement.pairs.held.unregistered", heldUnregistered, AtomicReference::get)
        .description(
            "(job, provider) pairs held because their provider has not registered on chain")
        .register(registry);
    txDuration =
        Timer.builder("gpupool.settlement.transaction.duration")
            .description("send to receipt of a settlement transaction")
            .publishPercentileHistogram()
            .register(registry);
    unexpectedFailures =
        Counter.builder("gpupool.settlement.unexpected.failures")
            .description(
                "settlement rounds ended by an exception nothing in the round handled (a bug:"
                    + " the loop goes on, the operator log has the stack trace)")
            .register(registry);
    RESULTS.forEach(this::transactions);
    for (PodOwnership.Verdict v : PodOwnership.Verdict.values()) {
      if (v != PodOwnership.Verdict.OWNED) {
        ignoredPods(v.reason());
      }
    }
    OPERATIONS.forEach(this::rpcErrors);
  }

  /** Make the per-provider counters exist (at 0) for a provider. */
  public synchronized void knowProvider(String provider) {
    gpuSeconds(provider);
    cost(provider);
    settled(provider);
  }

  /**
   * Bring counters and backlog gauges up to date with the store.
   *
   * @param pairs every stored pair
   * @param providerNames payout address of each pair -> GpuProvider name, per job UID
   */
  public synchronized void refresh(
      List<PairLedger> pairs, Map<String, Map<String, String>> providerNames) {
    int pending = 0;
    BigInteger unsettled = BigInteger.ZERO;
    Map<PairId, Seen> next = new HashMap<>();
    for (PairLedger l : pairs) {
      String name =
          providerNames
              .getOrDefault(l.pair().jobId(), Map.of())
              .getOrDefault(l.pair().provider(), l.pair().provider());
      knowProvider(name);
      Seen before = seen.getOrDefault(l.pair(), new Seen(0, BigInteger.ZERO, BigInteger.ZERO));
      long dt = l.milliGpuMillis() - before.milliGpuMillis();
      BigInteger dm = l.meteredWei().subtract(before.meteredWei());
      BigInteger ds = l.settledWei().subtract(before.settledWei());
      if (dt > 0) {
        gpuSeconds(name).increment(dt / 1_000_000.0);
      }
      if (dm.signum() > 0) {
        cost(name).increment(TokenUnits.fromWei(dm).doubleValue());
      }
      if (ds.signum() > 0) {
        settled(name).increment(TokenUnits.fromWei(ds).doubleValue());
      }
      next.put(
          l.pair(),
          new Seen(
              Math.max(l.milliGpuMillis(), before.milliGpuMillis()),
              l.meteredWei().max(before.meteredWei()),
              l.settledWei().max(before.settledWei())));
      if (UsageMeter.settleable(l.pair()) && l.pending()) {
        pending++;
        unsettled = unsettled.add(l.unsettledWei());
      }
    }
    seen.clear();
    seen.putAll(next);
    backlogPairs.set((double) pending);
    backlogAmount.set(TokenUnits.fromWei(unsettled).doubleValue());
  }

  /** Settlement health: pairs set aside, and the age of the oldest unconfirmed transaction. */
  public void settlementHealth(int pairsSetAside, Duration oldestUnconfirmedAge) {
    setAsidePairs.set((double) pairsSetAside);
    oldestUnconfirmed.set(oldestUnconfirmedAge.toMillis() / 1000.0);
  }

  /** Pairs held back because their provider has not registered a payout address on chain. */
  public void heldUnregistered(int pairs) {
    heldUnregistered.set((double) pairs);
  }

  /**
   * Pairs set aside per job ({@code Kind/namespace/name}); a job no longer listed drops to 0 (its
   * pairs were released or its usage record collected).
   */
  public void setAsideByJob(Map<String, Integer> pairsByJob) {
    setAsideByJob.forEach((job, ref) -> ref.set((double) pairsByJob.getOrDefault(job, 0)));
    pairsByJob.forEach(
        (job, n) ->
            setAsideByJob
                .computeIfAbsent(
                    job,
                    j -> {
                      AtomicReference<Double> r = new AtomicReference<>(0.0);
                      Gauge.builder(
                              "gpupool.settlement.job.pairs.set.aside", r, AtomicReference::get)
                          .description("pairs of one job set aside from settlement")
                          .tag("job", j)
                          .register(registry);
                      return r;
                    })
                .set((double) n));
  }

  /** A settlement transaction's outcome ({@code success}, {@code reverted} or {@code failed}). */
  public void transaction(String result, Duration sendToReceipt) {
    transactions(result).increment();
    if (sendToReceipt != null) {
      txDuration.record(sendToReceipt);
    }
  }

  /** A settlement round failed in a way nothing inside it handled. */
  public void unexpectedSettlementFailure() {
    unexpectedFailures.increment();
  }

  public void rpcError(String operation) {
    rpcErrors(operation).increment();
  }

  public void escrow(String payer, BigInteger balanceWei) {
    AtomicReference<Double> ref =
        escrow.computeIfAbsent(
            payer,
            p -> {
              AtomicReference<Double> r = new AtomicReference<>(0.0);
              Gauge.builder("gpupool.escrow.balance", r, AtomicReference::get)
                  .description("escrow balance of each active payer, token units")
                  .tag("payer", p)
                  .register(registry);
              return r;
            });
    ref.set(TokenUnits.fromWei(balanceWei).doubleValue());
  }

  private Counter gpuSeconds(String provider) {
    return Counter.builder("gpupool.metered.gpu.seconds")
        .description("GPU-seconds metered")
        .tag("provider", provider)
        .register(registry);
  }

  private Counter cost(String provider) {
    return Counter.builder("gpupool.metered.cost")
        .description("cost metered, token units")
        .tag("provider", provider)
        .register(registry);
  }

  private Counter settled(String provider) {
    return Counter.builder("gpupool.settled.amount")
        .description("amount paid out on chain, token units")
        .tag("provider", provider)
        .register(registry);
  }

  /**
   * Counts a pod carrying gpupool labels that metering ignores because it is not one the operator
   * placed ({@code reason}: {@link PodOwnership.Verdict#reason()}).
   */
  public void ignoredPod(PodOwnership.Verdict verdict) {
    ignoredPods(verdict.reason()).increment();
  }

  private Counter ignoredPods(String reason) {
    return Counter.builder("gpupool.billing.unowned.pods.ignored")
        .description("pods with gpupool labels not metered: not placed by the operator for a job")
        .tag("reason", reason)
        .register(registry);
  }

  private Counter transactions(String result) {
    return Counter.builder("gpupool.settlement.transactions")
        .description("settlement transactions")
        .tag("result", result)
        .register(registry);
  }

  private Counter rpcErrors(String operation) {
    return Counter.builder("gpupool.chain.rpc.errors")
        .description("failed JSON-RPC calls")
        .tag("operation", operation)
        .register(registry);
  }
}
