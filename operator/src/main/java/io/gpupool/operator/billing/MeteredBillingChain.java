package io.gpupool.operator.billing;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.chain.BillingChain;
import io.gpupool.billing.chain.BroadcastResult;
import io.gpupool.billing.chain.ChainRevertException;
import io.gpupool.billing.chain.ChainUnavailableException;
import io.gpupool.billing.chain.EscrowState;
import io.gpupool.billing.chain.PairEvent;
import io.gpupool.billing.chain.PairOnChain;
import io.gpupool.billing.chain.ProviderRegistrations;
import io.gpupool.billing.chain.SettlementReceipt;
import io.gpupool.billing.chain.SignedSettlement;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * A {@link BillingChain} that counts what happens on the wire: settlement transactions by result,
 * send-to-receipt time, RPC failures by operation, escrow balances seen. It also remembers when the
 * chain last answered, for the readiness check.
 */
public final class MeteredBillingChain implements BillingChain {
  private final BillingChain chain;
  private final BillingMetrics metrics;
  private final Clock clock;
  private final Map<String, Instant> sentAt = new ConcurrentHashMap<>();
  private final Map<String, String> signedHashes = new ConcurrentHashMap<>();
  private volatile Instant lastAnswer;
  private volatile Instant unreachableSince;

  public MeteredBillingChain(BillingChain chain, BillingMetrics metrics, Clock clock) {
    this.chain = chain;
    this.metrics = metrics;
    this.clock = clock;
  }

  /** When the chain has been failing since (empty while it answers). */
  public Optional<Instant> unreachableSince() {
    return Optional.ofNullable(unreachableSince);
  }

  public Optional<Instant> lastAnswer() {
    return Optional.ofNullable(lastAnswer);
  }

  @Override
  public SignedSettlement signSettlement(List<SettlementItem> items, long minNonce) {
    SignedSettlement signed = counted(() -> chain.signSettlement(items, minNonce));
    signedHashes.put(signed.rawTx(), signed.txHash());
    return signed;
  }

  @Override
  public Optional<SignedSettlement> signReplacement(SignedSettlement previous, int attempt) {
    Optional<SignedSettlement> signed = counted(() -> chain.signReplacement(previous, attempt));
    // the replacement's send-to-receipt time counts from the first version's send
    signed.ifPresent(
        s -> {
          signedHashes.put(s.rawTx(), s.txHash());
          Instant first = sentAt.get(previous.txHash());
          if (first != null) {
            sentAt.put(s.txHash(), first);
          }
        });
    return signed;
  }

  @Override
  public BroadcastResult broadcast(String rawTx) {
    BroadcastResult r = counted(() -> chain.broadcast(rawTx));
    String hash = signedHashes.remove(rawTx);
    if (hash != null && r == BroadcastResult.ACCEPTED) {
      sentAt.putIfAbsent(hash, clock.instant());
    }
    return r;
  }

  @Override
  public long minedNonce() {
    return call("getTransactionCount", chain::minedNonce);
  }

  @Override
  public boolean isProviderRegistered(String provider) {
    return call("call", () -> chain.isProviderRegistered(provider));
  }

  /** A sending call: a refusal counts as a reverted transaction, no answer as a failed one. */
  private <T> T counted(Supplier<T> send) {
    try {
      return call("sendTransaction", send);
    } catch (ChainRevertException e) {
      metrics.transaction("reverted", null);
      throw e;
    } catch (ChainUnavailableException e) {
      metrics.transaction("failed", null);
      throw e;
    }
  }

  @Override
  public Optional<SettlementReceipt> receipt(String txHash) {
    Optional<SettlementReceipt> r = call("getReceipt", () -> chain.receipt(txHash));
    r.ifPresent(
        receipt -> {
          Instant sent = sentAt.remove(txHash);
          metrics.transaction(
              receipt.success() ? "success" : "reverted",
              sent == null ? null : Duration.between(sent, clock.instant()));
        });
    return r;
  }

  @Override
  public boolean isKnown(String txHash) {
    return call("getTransaction", () -> chain.isKnown(txHash));
  }

  @Override
  public List<PairEvent> pairEvents(long fromBlock) {
    return call("getLogs", () -> chain.pairEvents(fromBlock));
  }

  @Override
  public PairOnChain pairState(PairId pair) {
    return call("call", () -> chain.pairState(pair));
  }

  @Override
  public EscrowState escrow(String payer) {
    EscrowState e = call("call", () -> chain.escrow(payer));
    metrics.escrow(PairId.normaliseAddress(payer, "payer"), e.balanceWei());
    return e;
  }

  @Override
  public BigInteger providerBalance(String provider) {
    return call("call", () -> chain.providerBalance(provider));
  }

  @Override
  public long latestBlock() {
    return call("blockNumber", chain::latestBlock);
  }

  @Override
  public ProviderRegistrations providerRegistrations(long fromBlock) {
    return call("getLogs", () -> chain.providerRegistrations(fromBlock));
  }

  private <T> T call(String operation, Supplier<T> call) {
    try {
      T result = call.get();
      lastAnswer = clock.instant();
      unreachableSince = null;
      return result;
    } catch (ChainUnavailableException e) {
      metrics.rpcError(operation);
      if (unreachableSince == null) {
        unreachableSince = clock.instant();
      }
      throw e;
    }
  }
}
