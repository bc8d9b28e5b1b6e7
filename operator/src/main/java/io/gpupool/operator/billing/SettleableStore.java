package io.gpupool.operator.billing;

import io.gpupool.billing.PairId;
import io.gpupool.billing.ledger.BillingStore;
import io.gpupool.billing.ledger.OutboxEntry;
import io.gpupool.billing.ledger.PairLedger;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The settlement loop's view of the store: only pairs with a payer and a payout address. Usage of
 * jobs without budget (or on providers without payout address) is metered but never sent.
 */
final class SettleableStore implements BillingStore {
  private final BillingStore store;

  SettleableStore(BillingStore store) {
    this.store = store;
  }

  @Override
  public Optional<PairLedger> get(PairId pair) {
    return UsageMeter.settleable(pair) ? store.get(pair) : Optional.empty();
  }

  @Override
  public List<PairLedger> all() {
    return store.all().stream().filter(l -> UsageMeter.settleable(l.pair())).toList();
  }

  @Override
  public PairLedger update(PairId pair, UnaryOperator<PairLedger> change) {
    return store.update(pair, change);
  }

  @Override
  public List<OutboxEntry> outbox() {
    return store.outbox();
  }

  @Override
  public void putOutbox(OutboxEntry entry) {
    store.putOutbox(entry);
  }

  @Override
  public void removeOutbox(long nonce) {
    store.removeOutbox(nonce);
  }
}
