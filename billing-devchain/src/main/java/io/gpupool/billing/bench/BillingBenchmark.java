package io.gpupool.billing.bench;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.chain.SettlementReceipt;
import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.devchain.BillingDeployer;
import io.gpupool.billing.devchain.DevAccounts;
import io.gpupool.billing.devchain.DevChain;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.InMemoryBillingStore;
import io.gpupool.billing.metering.PodLifetime;
import io.gpupool.billing.settlement.Backoff;
import io.gpupool.billing.settlement.SettlementOutbox;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Benchmark harness: gas per settled pair on anvil (batches of 1, 10, 100; first settlement and
 * steady state; few vs. all-distinct payers/providers) and usage records per second through
 * metering + ledger + outbox. Prints Markdown tables.
 *
 * <p>Run: {@code ./mvnw -q -B -pl billing-bridge compile exec:java
 * -Dexec.mainClass=io.gpupool.billing.bench.BillingBenchmark}
 */
public final class BillingBenchmark {

  private BillingBenchmark() {}

  public static void main(String[] args) throws Exception {
    System.out.println("## Gas per settled pair (anvil, settleBatch receipts, gas incl. 21k base)");
    System.out.println();
    System.out.println(
        "| batch | distinct parties in the batch | first settlement gas/pair | steady state gas/pair | tx gas steady |");
    System.out.println("|---:|---|---:|---:|---:|");
    boolean floorOnly = Arrays.asList(args).contains("gas-floor");
    try (DevChain dev = DevChain.start(Duration.ofHours(1), 4, BigInteger.TEN.pow(21))) {
      if (!floorOnly) {
        for (int size : new int[] {1, 10, 100}) {
          gasRow(dev, size, false, false);
        }
        gasRow(dev, 10, true, true);
      }
      // Where the worst case goes: the same 100 pairs with payers, providers or both distinct.
      // The differences are the marginal cost of a batch touching one more payer or provider.
      gasRow(dev, 100, false, false);
      gasRow(dev, 100, true, false);
      gasRow(dev, 100, false, true);
      gasRow(dev, 100, true, true);
    }
    if (!floorOnly) {
      System.out.println();
      meteringThroughput();
    }
  }

  private static int run;

  private static void gasRow(
      DevChain dev, int size, boolean distinctPayers, boolean distinctProviders) throws Exception {
    run++;
    List<String> payers = new ArrayList<>();
    List<String> providers = new ArrayList<>();
    BillingDeployer d = dev.deployer();
    if (distinctPayers) {
      for (int i = 0; i < size; i++) {
        String payer = randomAddress();
        d.depositFor(dev.contractAddress(), dev.owner(), payer, BigInteger.TEN.pow(18));
        dev.allowReporter(payer);
        payers.add(payer);
      }
    } else {
      dev.payers().forEach(c -> payers.add(c.getAddress()));
    }
    if (distinctProviders) {
      for (int i = 0; i < size; i++) {
        String provider = randomAddress();
        dev.registerProvider(provider);
        providers.add(provider);
      }
    } else {
      for (int i = 0; i < 4; i++) {
        providers.add(dev.provider(i).getAddress());
      }
    }
    List<PairId> pairs = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      pairs.add(
          new PairId(
              "bench/run-" + run + "/job-" + i,
              payers.get(i % payers.size()),
              providers.get(
                  distinctProviders ? i : (i / Math.min(payers.size(), 4)) % providers.size())));
    }
    try (Web3jBillingChain chain = new Web3jBillingChain(dev.chainConfig(), dev.reporter())) {
      // Wei amounts of realistic size (~0.12 ETH per pair): calldata cost grows with nonzero bytes.
      long first = settle(chain, pairs, BigInteger.valueOf(123_456_789_012_345_678L));
      long[] steady = new long[3];
      for (int round = 0; round < steady.length; round++) {
        steady[round] =
            settle(
                chain,
                pairs,
                BigInteger.valueOf(133_456_789_012_345_678L + round * 9_876_543_210_987_654L));
      }
      long steadyTx = Arrays.stream(steady).max().orElseThrow();
      System.out.printf(
          Locale.ROOT,
          "| %d | %s | %,d | %,d | %,d |%n",
          size,
          pairs.stream().map(PairId::payer).distinct().count()
              + " payers x "
              + pairs.stream().map(PairId::provider).distinct().count()
              + " providers",
          first / size,
          steadyTx / size,
          steadyTx);
    }
  }

  private static long addressCounter;

  /** A fresh address nobody has used (no key needed: it only receives and is debited). */
  private static String randomAddress() {
    return String.format(Locale.ROOT, "0x%040x", 0xfeed_0000_0000L + ++addressCounter);
  }

  private static long settle(Web3jBillingChain chain, List<PairId> pairs, BigInteger base) {
    List<SettlementItem> items = new ArrayList<>();
    for (int i = 0; i < pairs.size(); i++) {
      items.add(new SettlementItem(pairs.get(i), base.add(BigInteger.valueOf(i))));
    }
    items.sort((a, b) -> a.pair().compareTo(b.pair()));
    String tx = chain.submitSettlement(items);
    for (int i = 0; i < 500; i++) {
      Optional<SettlementReceipt> r = chain.receipt(tx);
      if (r.isPresent()) {
        if (!r.get().success()) {
          throw new IllegalStateException("benchmark batch reverted: " + r.get().revertReason());
        }
        return r.get().gasUsed().longValueExact();
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    throw new IllegalStateException("no receipt for " + tx);
  }

  /**
   * A tick of the operator: every pod lifetime of every job is metered again (cumulative), the
   * store raised, the outbox computes what is due and cuts batches of 100.
   */
  private static void meteringThroughput() {
    int jobs = 2_000;
    int podsPerJob = 50;
    Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
    List<PodLifetime> pods = new ArrayList<>(jobs * podsPerJob);
    String[] payers = new String[8];
    String[] providers = new String[32];
    for (int i = 0; i < payers.length; i++) {
      payers[i] = DevAccounts.account(i).getAddress();
    }
    for (int i = 0; i < providers.length; i++) {
      providers[i] = String.format(Locale.ROOT, "0x%040x", 0xb000 + i);
    }
    for (int j = 0; j < jobs; j++) {
      for (int p = 0; p < podsPerJob; p++) {
        PairId pair =
            new PairId(
                "ns/job-" + j, payers[j % payers.length], providers[(j + p) % providers.length]);
        boolean ended = p % 3 == 0;
        pods.add(
            new PodLifetime(
                "uid-" + j + "-" + p,
                pair,
                t0.plusMillis(p * 1_337L),
                ended ? t0.plusSeconds(600 + p) : null,
                125L * (1 + p % 8),
                BigInteger.valueOf(1_234_567_891_011L + p)));
      }
    }
    InMemoryBillingStore store = new InMemoryBillingStore();
    BillingLedger ledger = new BillingLedger(store);
    SettlementOutbox outbox =
        new SettlementOutbox(
            ledger, new Backoff(Duration.ofSeconds(5), Duration.ofMinutes(5), 2, 0.2), () -> 0.5);
    int rounds = 7;
    double[] perSecond = new double[rounds];
    int batches = 0;
    for (int round = 0; round < rounds; round++) {
      Instant observedAt = t0.plusSeconds(3_600L + round * 60L);
      long start = System.nanoTime();
      ledger.record(pods, observedAt);
      List<SettlementItem> due = outbox.due(observedAt, java.util.Set.of());
      batches = SettlementOutbox.batches(due, 100).size();
      long nanos = System.nanoTime() - start;
      perSecond[round] = pods.size() / (nanos / 1e9);
    }
    double[] measured =
        Arrays.copyOfRange(perSecond, 2, rounds); // first two rounds warm up the JIT
    Arrays.sort(measured);
    System.out.println("## Metering + ledger + outbox throughput (one JVM thread)");
    System.out.println();
    System.out.println(
        "| pod lifetimes per tick | pairs | batches of 100 | median records/s | min records/s |");
    System.out.println("|---:|---:|---:|---:|---:|");
    System.out.printf(
        Locale.ROOT,
        "| %,d | %,d | %,d | %,.0f | %,.0f |%n",
        pods.size(),
        store.all().size(),
        batches,
        measured[measured.length / 2],
        measured[0]);
  }
}
