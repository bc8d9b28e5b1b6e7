package io.gpupool.billing.settlement;

import io.gpupool.billing.PairId;
import io.gpupool.billing.chain.DisputeSigner;
import io.gpupool.billing.chain.DisputeState;
import io.gpupool.billing.chain.MaturingEarnings;
import io.gpupool.billing.chain.PairOnChain;
import io.gpupool.billing.chain.SettlementReceipt;
import io.gpupool.billing.chain.StakeState;
import io.gpupool.billing.chain.TrustChain;
import io.gpupool.billing.ledger.OutboxEntry;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@link TrustChain} whose dispute transactions go through the settlement outbox: the verifier
 * key is the reporter key, so a dispute sent beside the outbox could take the nonce of a settlement
 * signed but not yet broadcast, and one dropped from the node's pool would be lost and leave a gap
 * every later settlement queues behind. Here each dispute is signed above the outbox's nonces,
 * persisted, then broadcast, and the settlement loop re-broadcasts, replaces and resumes it like a
 * settlement. Reads go to the chain.
 */
public final class OutboxTrustChain implements TrustChain {

  private final TrustChain chain;
  private final DisputeSigner signer;
  private final SettlementService settlement;

  public OutboxTrustChain(TrustChain chain, DisputeSigner signer, SettlementService settlement) {
    this.chain = Objects.requireNonNull(chain, "chain");
    this.signer = Objects.requireNonNull(signer, "signer");
    this.settlement = Objects.requireNonNull(settlement, "settlement");
  }

  @Override
  public String openDispute(
      PairId pair, BigInteger amountWei, byte[] evidenceHash, String whistleblower) {
    return settlement.sendCall(
        "openDispute("
            + pair
            + ", "
            + amountWei
            + " wei, evidence 0x"
            + HexFormat.of().formatHex(evidenceHash)
            + ", whistleblower "
            + whistleblower
            + ")",
        nonce -> signer.signOpenDispute(pair, amountWei, evidenceHash, whistleblower, nonce));
  }

  @Override
  public String resolveDispute(PairId pair, boolean fraud) {
    return settlement.sendCall(
        "resolveDispute(" + pair + ", " + (fraud ? "fraud" : "no fraud") + ")",
        nonce -> signer.signResolveDispute(pair, fraud, nonce));
  }

  @Override
  public String slashStake(String provider, byte[] evidenceHash, String whistleblower) {
    return settlement.sendCall(
        "slashStake("
            + provider
            + ", evidence 0x"
            + HexFormat.of().formatHex(evidenceHash)
            + ", whistleblower "
            + whistleblower
            + ")",
        nonce -> signer.signSlashStake(provider, evidenceHash, whistleblower, nonce));
  }

  @Override
  public String expireDispute(PairId pair) {
    return settlement.sendCall(
        "expireDispute(" + pair + ")", nonce -> signer.signExpireDispute(pair, nonce));
  }

  @Override
  public Duration disputeDeadline() {
    return chain.disputeDeadline();
  }

  @Override
  public Instant chainTime() {
    return chain.chainTime();
  }

  /**
   * The receipt of {@code txHash} or, while its outbox entry is still there, of whichever version
   * of it (a same-nonce replacement) was mined.
   */
  @Override
  public Optional<SettlementReceipt> receipt(String txHash) {
    Optional<OutboxEntry> entry =
        settlement.outboxEntries().stream().filter(e -> e.allHashes().contains(txHash)).findFirst();
    if (entry.isEmpty()) {
      return chain.receipt(txHash);
    }
    for (String hash : entry.get().allHashes()) {
      Optional<SettlementReceipt> r = chain.receipt(hash);
      if (r.isPresent()) {
        return r;
      }
    }
    return Optional.empty();
  }

  @Override
  public StakeState stake(String provider) {
    return chain.stake(provider);
  }

  @Override
  public MaturingEarnings earnings(String provider) {
    return chain.earnings(provider);
  }

  @Override
  public io.gpupool.billing.chain.ProviderEarnings.PairEarnings pairEarnings(PairId pair) {
    return chain.pairEarnings(pair);
  }

  @Override
  public Duration challengeWindow() {
    return chain.challengeWindow();
  }

  @Override
  public DisputeState dispute(PairId pair) {
    return chain.dispute(pair);
  }

  @Override
  public String signerAddress() {
    return chain.signerAddress();
  }

  @Override
  public PairOnChain pairState(PairId pair) {
    return chain.pairState(pair);
  }
}
