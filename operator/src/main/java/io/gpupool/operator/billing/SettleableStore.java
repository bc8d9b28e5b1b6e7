package io.gpupool.operator.billing;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.billing.PairId;
import io.gpupool.billing.ledger.BillingStore;
import io.gpupool.billing.ledger.OutboxEntry;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.billing.ledger.StoreUnavailableException;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The settlement loop's view of the store: only pairs with a payer and a payout address. Usage of
 * jobs without budget (or on providers without payout address) is metered but never sent.
 *
 * <p>A pair whose provider was proven to cheat on the job ({@link ConfigMapBillingStore#forfeit})
 * is shown with nothing owed: its metered figure capped at what the chain has already paid. So the
 * loop never sends it (not even the escrow-short remainder of an overdrawn pair), the payer's
 * outstanding figure leaves it out, and it is not "set aside" (which alerts): the usage is
 * forfeited, neither paid to the cheat nor charged to the payer. The pair stays visible, so a
 * settlement of it already in flight is still followed to its receipt and the cursors still follow
 * the chain.
 */
final class SettleableStore implements BillingStore {
  private final ConfigMapBillingStore store;

  SettleableStore(ConfigMapBillingStore store) {
    this.store = store;
  }

  @Override
  public Optional<PairLedger> get(PairId pair) {
    return UsageMeter.settleable(pair)
        ? reached(() -> store.get(pair).map(this::owed))
        : Optional.empty();
  }

  @Override
  public List<PairLedger> all() {
    return reached(
        () ->
            store.all().stream()
                .filter(l -> UsageMeter.settleable(l.pair()))
                .map(this::owed)
                .toList());
  }

  @Override
  public PairLedger update(PairId pair, UnaryOperator<PairLedger> change) {
    return reached(() -> owed(store.update(pair, change)));
  }

  @Override
  public List<OutboxEntry> outbox() {
    return reached(store::outbox);
  }

  @Override
  public void putOutbox(OutboxEntry entry) {
    reached(
        () -> {
          store.putOutbox(entry);
          return null;
        });
  }

  @Override
  public void removeOutbox(long nonce) {
    reached(
        () -> {
          store.removeOutbox(nonce);
          return null;
        });
  }

  /**
   * Runs a call on the ConfigMaps; an API server that does not answer (or drops the connection) is
   * the store being unavailable, which ends a settlement round without counting as a bug.
   */
  private static <T> T reached(Supplier<T> call) {
    try {
      return call.get();
    } catch (KubernetesClientException e) {
      throw new StoreUnavailableException("usage ConfigMaps: " + e.getMessage(), e);
    }
  }

  /**
   * The figures as settlement must see them: a forfeited pair owes nothing beyond what was paid.
   */
  PairLedger owed(PairLedger l) {
    return forfeited(store, l) ? withNothingOwed(l) : l;
  }

  static boolean forfeited(ConfigMapBillingStore store, PairLedger l) {
    return store.forfeit(l.pair()).isPresent();
  }

  /** Metered capped at settled (never pending) and owed at paid (never overdrawn). */
  static PairLedger withNothingOwed(PairLedger l) {
    return new PairLedger(
        l.pair(),
        l.milliGpuMillis(),
        l.meteredWei().min(l.settledWei()),
        l.settledWei(),
        l.settledWei(),
        l.inFlightTx(),
        l.setAside());
  }
}
