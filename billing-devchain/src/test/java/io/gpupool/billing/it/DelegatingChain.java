package io.gpupool.billing.it;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.chain.BillingChain;
import io.gpupool.billing.chain.BroadcastResult;
import io.gpupool.billing.chain.EscrowState;
import io.gpupool.billing.chain.PairEvent;
import io.gpupool.billing.chain.PairOnChain;
import io.gpupool.billing.chain.ProviderRegistrations;
import io.gpupool.billing.chain.SettlementReceipt;
import io.gpupool.billing.chain.SignedSettlement;
import java.math.BigInteger;
import java.util.List;
import java.util.Optional;

/** Forwards everything; tests override one method to inject a failure at a precise moment. */
class DelegatingChain implements BillingChain {
  private final BillingChain d;

  DelegatingChain(BillingChain d) {
    this.d = d;
  }

  @Override
  public SignedSettlement signSettlement(List<SettlementItem> items, long minNonce) {
    return d.signSettlement(items, minNonce);
  }

  @Override
  public Optional<SignedSettlement> signReplacement(SignedSettlement previous, int attempt) {
    return d.signReplacement(previous, attempt);
  }

  @Override
  public BroadcastResult broadcast(String rawTx) {
    return d.broadcast(rawTx);
  }

  @Override
  public long minedNonce() {
    return d.minedNonce();
  }

  @Override
  public boolean isProviderRegistered(String provider) {
    return d.isProviderRegistered(provider);
  }

  @Override
  public Optional<SettlementReceipt> receipt(String txHash) {
    return d.receipt(txHash);
  }

  @Override
  public boolean isKnown(String txHash) {
    return d.isKnown(txHash);
  }

  @Override
  public List<PairEvent> pairEvents(long fromBlock) {
    return d.pairEvents(fromBlock);
  }

  @Override
  public PairOnChain pairState(PairId pair) {
    return d.pairState(pair);
  }

  @Override
  public EscrowState escrow(String payer) {
    return d.escrow(payer);
  }

  @Override
  public BigInteger providerBalance(String provider) {
    return d.providerBalance(provider);
  }

  @Override
  public ProviderRegistrations providerRegistrations(long fromBlock) {
    return d.providerRegistrations(fromBlock);
  }

  @Override
  public long latestBlock() {
    return d.latestBlock();
  }
}
