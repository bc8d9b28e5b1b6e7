package io.gpupool.billing.ledger;

import io.gpupool.billing.PairId;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Persistence port for the cumulative billing figures and the settled cursor of each pair. The
 * operator implements it on the cluster (in ConfigMaps), so that a restart loses nothing; the tests
 * and the billing benchmark use billing-devchain's in-memory store.
 *
 * <p>Implementations must apply {@link #update} atomically per pair (e.g. optimistic concurrency
 * with retry on conflict): metering and the settlement loop both update the same pair. When their
 * storage cannot be reached they throw {@link StoreUnavailableException}.
 */
public interface BillingStore {

  /** The stored figures of one pair, if any. */
  Optional<PairLedger> get(PairId pair);

  /** Every stored pair. */
  List<PairLedger> all();

  /**
   * Atomically replace the pair's figures by {@code change} applied to the current ones ({@link
   * PairLedger#empty} if none) and return the stored result.
   */
  PairLedger update(PairId pair, UnaryOperator<PairLedger> change);

  /**
   * The persisted settlement outbox: every settlement transaction signed and not yet confirmed at
   * depth, read from durable storage (a restarted operator resumes exactly these).
   */
  List<OutboxEntry> outbox();

  /** Write (or overwrite) the outbox entry of {@code entry.nonce()}; durable when it returns. */
  void putOutbox(OutboxEntry entry);

  /** Forget the outbox entry of {@code nonce} (confirmed at depth, or never minable). */
  void removeOutbox(long nonce);
}
