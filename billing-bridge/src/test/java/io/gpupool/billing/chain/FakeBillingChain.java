package io.gpupool.billing.chain;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.web3j.utils.Numeric;

/**
 * In-memory {@link BillingChain} with the contract's settlement semantics and failure switches, for
 * pure tests of the settlement loop (here and in the operator). Not a chain: no gas, no signatures.
 *
 * <p>Switches: {@link #setDown} (every call fails as if the RPC were unreachable), {@link
 * #failNextSubmits} (the next submits fail before reaching the chain), {@link
 * #loseNextSubmitResponses} (the chain takes and mines the transaction but the client sees a
 * transport error), {@link #revertNextSubmit} (the dry run reverts with an error), {@link
 * #setHoldReceipts} (transactions stay pending until {@link #mineAll}), {@link
 * #setDownAfterSubmits} (the RPC goes down in the middle of a round).
 */
public final class FakeBillingChain implements BillingChain {

  private record Key(String jobIdHash, String payer, String provider) {}

  private final Map<String, BigInteger> escrow = new HashMap<>();
  private final Map<String, BigInteger> providerBalance = new HashMap<>();
  private final Map<Key, PairOnChain> pairs = new HashMap<>();
  private final List<PairEvent> events = new ArrayList<>();
  private final Map<String, SettlementReceipt> mined = new HashMap<>();
  private final Map<String, List<SettlementItem>> pending = new LinkedHashMap<>();
  private final List<List<SettlementItem>> submitted = new ArrayList<>();
  private long block = 1;
  private int txCounter;
  private int replaced;
  private boolean down;
  private boolean holdReceipts;
  private int failNextSubmits;
  private final Map<PairId, DecodedError> poisoned = new HashMap<>();
  private int downAfterSubmits = -1;
  private int loseNextSubmitResponses;
  private DecodedError revertNext;

  // ---------------------------------------------------------------- switches and setup

  /** While down, every call throws {@link ChainUnavailableException}. */
  public synchronized void setDown(boolean down) {
    this.down = down;
  }

  /** The next {@code n} submits fail with {@link ChainUnavailableException}; nothing is sent. */
  public synchronized void failNextSubmits(int n) {
    this.failNextSubmits = n;
  }

  /** After {@code n} more successful submits the RPC goes down (as {@link #setDown}(true)). */
  public synchronized void setDownAfterSubmits(int n) {
    this.downAfterSubmits = n;
  }

  /** The next {@code n} submits reach the chain (and are mined) but the caller gets an error. */
  public synchronized void loseNextSubmitResponses(int n) {
    this.loseNextSubmitResponses = n;
  }

  /** The next submit's dry run reverts with {@code error}. */
  public synchronized void revertNextSubmit(DecodedError error) {
    this.revertNext = error;
  }

  /** While held, submitted transactions stay pending (no receipt) until {@link #mineAll}. */
  /** Every batch that contains {@code pair} is rejected with {@code error} (a poison pair). */
  public synchronized void poison(PairId pair, DecodedError error) {
    poisoned.put(pair, error);
  }

  public synchronized void setHoldReceipts(boolean hold) {
    this.holdReceipts = hold;
  }

  /** Mine every pending transaction. */
  public synchronized void mineAll() {
    new ArrayList<>(pending.keySet()).forEach(this::mine);
  }

  /** Drop every pending transaction, as a node restarting with an empty mempool would. */
  public synchronized void dropPending() {
    pending.clear();
  }

  public synchronized void deposit(String payer, BigInteger wei) {
    escrow.merge(PairId.normaliseAddress(payer, "payer"), wei, BigInteger::add);
  }

  /** Every batch that reached the chain, in order. */
  public synchronized List<List<SettlementItem>> submittedBatches() {
    return List.copyOf(submitted);
  }

  /** Sum of all provider balances (what the chain has paid out of escrow). */
  public synchronized BigInteger totalPaid() {
    return providerBalance.values().stream().reduce(BigInteger.ZERO, BigInteger::add);
  }

  // ---------------------------------------------------------------- BillingChain

  @Override
  public synchronized String submitSettlement(List<SettlementItem> items) {
    checkUp();
    if (failNextSubmits > 0) {
      failNextSubmits--;
      throw new ChainUnavailableException("fake: connection refused", null);
    }
    for (SettlementItem item : items) {
      DecodedError e = poisoned.get(item.pair());
      if (e != null) {
        throw new ChainRevertException(e, null);
      }
    }
    if (revertNext != null) {
      DecodedError e = revertNext;
      revertNext = null;
      throw new ChainRevertException(e, null);
    }
    String hash = Numeric.toHexStringWithPrefixZeroPadded(BigInteger.valueOf(++txCounter), 64);
    submitted.add(List.copyOf(items));
    pending.put(hash, List.copyOf(items));
    if (!holdReceipts) {
      mine(hash);
    }
    if (downAfterSubmits > 0 && --downAfterSubmits == 0) {
      down = true;
      downAfterSubmits = -1;
    }
    if (loseNextSubmitResponses > 0) {
      loseNextSubmitResponses--;
      throw new ChainUnavailableException("fake: connection reset after send", null);
    }
    return hash;
  }

  private void mine(String hash) {
    List<SettlementItem> items = pending.remove(hash);
    if (items == null) {
      return;
    }
    long b = ++block;
    List<PairEvent> txEvents = new ArrayList<>();
    for (SettlementItem item : items) {
      PairId p = item.pair();
      Key key = new Key(Numeric.toHexString(p.jobIdHash()), p.payer(), p.provider());
      PairOnChain state =
          pairs.getOrDefault(key, new PairOnChain(BigInteger.ZERO, BigInteger.ZERO));
      BigInteger owed = state.owedWei().max(item.cumulativeWei());
      if (owed.equals(state.paidWei())) {
        continue;
      }
      BigInteger available = escrow.getOrDefault(p.payer(), BigInteger.ZERO);
      BigInteger pay = owed.subtract(state.paidWei()).min(available);
      BigInteger paid = state.paidWei().add(pay);
      pairs.put(key, new PairOnChain(paid, owed));
      escrow.put(p.payer(), available.subtract(pay));
      providerBalance.merge(p.provider(), pay, BigInteger::add);
      if (pay.signum() > 0) {
        txEvents.add(
            new PairEvent(
                PairEvent.Kind.SETTLED,
                key.jobIdHash(),
                p.payer(),
                p.provider(),
                paid,
                paid,
                b,
                hash));
      }
      if (paid.compareTo(owed) < 0) {
        txEvents.add(
            new PairEvent(
                PairEvent.Kind.OVERDRAWN,
                key.jobIdHash(),
                p.payer(),
                p.provider(),
                paid,
                owed,
                b,
                hash));
      }
    }
    events.addAll(txEvents);
    mined.put(
        hash,
        new SettlementReceipt(
            hash, true, b, BigInteger.valueOf(30_000L * items.size()), txEvents, null));
  }

  /** Replaces a pending transaction by a new hash carrying the same batch (a gas-price bump). */
  @Override
  public synchronized Optional<String> replaceStuck(String txHash) {
    checkUp();
    List<SettlementItem> items = pending.remove(txHash);
    if (items == null) {
      return Optional.empty();
    }
    String hash = Numeric.toHexStringWithPrefixZeroPadded(BigInteger.valueOf(++txCounter), 64);
    pending.put(hash, items);
    replaced++;
    return Optional.of(hash);
  }

  /** How many transactions were replaced. */
  public synchronized int replacedCount() {
    return replaced;
  }

  @Override
  public synchronized Optional<SettlementReceipt> receipt(String txHash) {
    checkUp();
    return Optional.ofNullable(mined.get(txHash));
  }

  @Override
  public synchronized boolean isKnown(String txHash) {
    checkUp();
    return mined.containsKey(txHash) || pending.containsKey(txHash);
  }

  @Override
  public synchronized List<PairEvent> pairEvents(long fromBlock) {
    checkUp();
    return events.stream().filter(e -> e.blockNumber() >= fromBlock).toList();
  }

  @Override
  public synchronized PairOnChain pairState(PairId p) {
    checkUp();
    return pairs.getOrDefault(
        new Key(Numeric.toHexString(p.jobIdHash()), p.payer(), p.provider()),
        new PairOnChain(BigInteger.ZERO, BigInteger.ZERO));
  }

  @Override
  public synchronized EscrowState escrow(String payer) {
    checkUp();
    return new EscrowState(
        escrow.getOrDefault(PairId.normaliseAddress(payer, "payer"), BigInteger.ZERO),
        BigInteger.ZERO,
        0);
  }

  @Override
  public synchronized BigInteger providerBalance(String provider) {
    checkUp();
    return providerBalance.getOrDefault(
        PairId.normaliseAddress(provider, "provider"), BigInteger.ZERO);
  }

  @Override
  public synchronized long latestBlock() {
    checkUp();
    return block;
  }

  private void checkUp() {
    if (down) {
      throw new ChainUnavailableException("fake: RPC down", null);
    }
  }
}
