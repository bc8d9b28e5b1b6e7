package io.gpupool.billing.ledger;

import io.gpupool.billing.PairId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.UnaryOperator;

/**
 * {@link BillingStore} in a map, lost with the process: for tests and the billing benchmark. It
 * lives in billing-devchain, not beside the port in billing-bridge, so that no runnable jar carries
 * a store that forgets usage on restart.
 */
public final class InMemoryBillingStore implements BillingStore {

  private final ConcurrentHashMap<PairId, PairLedger> pairs = new ConcurrentHashMap<>();
  private final ConcurrentSkipListMap<Long, OutboxEntry> outbox = new ConcurrentSkipListMap<>();

  @Override
  public Optional<PairLedger> get(PairId pair) {
    return Optional.ofNullable(pairs.get(pair));
  }

  @Override
  public List<PairLedger> all() {
    return new ArrayList<>(pairs.values());
  }

  @Override
  public PairLedger update(PairId pair, UnaryOperator<PairLedger> change) {
    return pairs.compute(
        pair, (id, current) -> change.apply(current == null ? PairLedger.empty(id) : current));
  }

  @Override
  public List<OutboxEntry> outbox() {
    return new ArrayList<>(outbox.values());
  }

  @Override
  public void putOutbox(OutboxEntry entry) {
    outbox.put(entry.nonce(), entry);
  }

  @Override
  public void removeOutbox(long nonce) {
    outbox.remove(nonce);
  }
}
