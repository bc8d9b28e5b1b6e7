package io.gpupool.billing.cli;

import static io.gpupool.billing.cli.Args.duration;

import io.gpupool.billing.chain.ChainConfig;
import io.gpupool.billing.chain.SettlementReceipt;
import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.OutboxEntry;
import io.gpupool.billing.settlement.OutboxTrustChain;
import io.gpupool.billing.settlement.SettlementConfig;
import io.gpupool.billing.settlement.SettlementService;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;

/**
 * The verifier's disputes and slashes, sent as the operator sends them: through an outbox file kept
 * until each transaction is mined, so an interrupted run is finished by the next one ({@code
 * verifier resume}).
 */
final class OutboxRun {
  private final PrintStream out;
  private final Map<String, String> env;
  private final ChainAccess chain;

  OutboxRun(PrintStream out, Map<String, String> env, ChainAccess chain) {
    this.out = out;
    this.env = env;
    this.chain = chain;
  }

  /**
   * Send {@code call} (none: only finish what an earlier run left) the way the operator sends its
   * disputes: dry run, sign above every nonce the outbox holds, persist, broadcast; then drive the
   * settlement loop's rounds until every transaction of the outbox is mined (a dropped one is sent
   * again byte for byte, a stuck one replaced with the same nonce and a higher fee). If {@code
   * --wait} runs out first the outbox file keeps them and the next run finishes them.
   */
  void run(Args a, Credentials key, java.util.function.Function<OutboxTrustChain, String> call) {
    Duration wait = duration(a.option("wait") == null ? "10m" : a.option("wait"));
    String contract = chain.contract();
    Web3j web3j = chain.web3j();
    long chainId;
    try {
      chainId = web3j.ethChainId().send().getChainId().longValueExact();
    } catch (java.io.IOException e) {
      web3j.shutdown();
      throw new IllegalStateException("RPC failed: " + e.getMessage(), e);
    }
    ChainConfig config = ChainConfig.of(chain.orEnv("rpc", "GPUPOOL_CHAIN_RPC"), contract, chainId);
    try (Web3jBillingChain billing = new Web3jBillingChain(config, key, web3j)) {
      FileOutbox store = new FileOutbox(outboxFile(a, chainId, contract, key));
      try (FileOutbox.Held held = store.lock()) {
        SettlementService loop =
            new SettlementService(
                SettlementConfig.defaults()
                    .withReconcileFromBlock(billing.latestBlock())
                    .withStuckAfter(stuckAfter(a)),
                new BillingLedger(store),
                billing,
                Clock.systemUTC());
        Map<Long, OutboxEntry> seen = new TreeMap<>();
        store.outbox().forEach(e -> seen.put(e.nonce(), e));
        if (!seen.isEmpty()) {
          out.println(
              "resuming " + seen.size() + " unconfirmed transaction(s) from " + store.file());
        }
        if (call != null) {
          String hash = call.apply(new OutboxTrustChain(billing, billing, loop));
          out.println(
              "sent " + hash + " from " + key.getAddress() + " (kept in " + store.file() + ")");
        }
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
          store.outbox().forEach(e -> seen.put(e.nonce(), e));
          if (store.outbox().isEmpty()) {
            break;
          }
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(
                store.outbox().size()
                    + " transaction(s) not mined after "
                    + wait
                    + "; kept in "
                    + store.file()
                    + ": run ./gpupool chain verifier resume to finish them");
          }
          loop.runOnce().errors().forEach(e -> out.println("  " + e));
          store.outbox().forEach(e -> seen.put(e.nonce(), e));
          if (!store.outbox().isEmpty()) {
            sleep(Duration.ofSeconds(1));
          }
        }
        reportMined(billing, seen.values());
      }
    }
  }

  /** What became of each transaction that left the outbox; fails when one did not succeed. */
  private void reportMined(Web3jBillingChain chain, java.util.Collection<OutboxEntry> done) {
    List<String> failed = new ArrayList<>();
    for (OutboxEntry e : done) {
      Optional<SettlementReceipt> mined = Optional.empty();
      for (String hash : e.allHashes()) {
        mined = chain.receipt(hash);
        if (mined.isPresent()) {
          break;
        }
      }
      if (mined.isEmpty()) {
        failed.add(e.call() + ": not mined (its nonce was taken by another transaction)");
      } else if (!mined.get().success()) {
        failed.add(e.call() + ": reverted: " + mined.get().revertReason());
      } else {
        out.println(
            e.call()
                + ": mined in block "
                + mined.get().blockNumber()
                + ", tx "
                + mined.get().txHash()
                + ", gas "
                + mined.get().gasUsed()
                + (e.attempt() > 0 ? " (replacement " + e.attempt() + ")" : ""));
      }
    }
    if (!failed.isEmpty()) {
      throw new IllegalStateException(String.join("; ", failed));
    }
  }

  private Path outboxFile(Args a, long chainId, String contract, Credentials key) {
    String file = a.option("outbox") != null ? a.option("outbox") : env.get("GPUPOOL_CHAIN_OUTBOX");
    if (file != null && !file.isBlank()) {
      return Path.of(file);
    }
    return Path.of(
        System.getProperty("user.home"),
        ".gpupool",
        ("outbox-" + chainId + "-" + contract + "-" + key.getAddress() + ".properties")
            .toLowerCase(Locale.ROOT));
  }

  private static Duration stuckAfter(Args a) {
    String v = a.option("replace-after");
    return v == null ? SettlementConfig.defaults().stuckAfter() : duration(v);
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted; the outbox keeps what is unconfirmed", e);
    }
  }
}
