package io.gpupool.operator.billing;

import io.gpupool.billing.PairId;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.chain.ChainException;
import io.gpupool.billing.chain.ChainRevertException;
import io.gpupool.billing.chain.DisputeState;
import io.gpupool.billing.chain.SettlementReceipt;
import io.gpupool.billing.chain.TrustChain;
import io.gpupool.operator.billing.DisputeFiling.Outcome;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Opens and resolves disputes on a {@link TrustChain}, synchronously (the caller runs it off the
 * reconcile thread): finds the job's pair with the provider, bounds the amount by what the pair
 * paid and not yet disputed and by what the provider still has inside the challenge window, sends
 * the transaction and waits for it to be mined.
 *
 * <p>Before it reads what the pair paid, it waits until every settlement of the pair already signed
 * is confirmed: one sent just before the fraud was proven (and its usage forfeited) would otherwise
 * land after the read, outside the dispute, and mature to the cheat after the verdict.
 */
final class ChainDisputes {
  private final TrustChain chain;
  private final Function<String, List<PairId>> pairsOfJob;
  private final Function<String, Optional<String>> providerAddress;
  private final Function<PairId, Set<Long>> unconfirmedSettlements;
  private final Optional<String> whistleblower;
  private final Duration timeout;
  private final Duration poll;
  private final String symbol;

  /**
   * @param pairsOfJob job UID to the pairs its usage was recorded under
   * @param providerAddress GpuProvider name to its chain address
   * @param unconfirmedSettlements a pair to the nonces of its settlements signed and not yet
   *     confirmed ({@code SettlementService.unconfirmedSettlements})
   * @param whistleblower who a fraud verdict rewards (empty: the signing key's address)
   * @param timeout how long a transaction may take to be mined, and a pair's settlements to land
   */
  ChainDisputes(
      TrustChain chain,
      Function<String, List<PairId>> pairsOfJob,
      Function<String, Optional<String>> providerAddress,
      Function<PairId, Set<Long>> unconfirmedSettlements,
      Optional<String> whistleblower,
      Duration timeout,
      Duration poll,
      String symbol) {
    this.chain = chain;
    this.pairsOfJob = pairsOfJob;
    this.providerAddress = providerAddress;
    this.unconfirmedSettlements = unconfirmedSettlements;
    this.whistleblower = whistleblower;
    this.timeout = timeout;
    this.poll = poll;
    this.symbol = symbol;
  }

  DisputeFiling open(JobRef job, String provider, EvidenceHash evidence, String reason) {
    String about = provider + " over " + job + " (" + reason + ")";
    try {
      Optional<PairId> pair = pair(job, provider);
      if (pair.isEmpty()) {
        return DisputeFiling.notOpened(
            Outcome.NOTHING_TO_DISPUTE,
            "no dispute against "
                + about
                + ": the job's usage was never recorded on this provider");
      }
      Optional<String> unlanded = settlementsLanded(pair.get());
      DisputeState d = chain.dispute(pair.get());
      if (d.open()) {
        return DisputeFiling.notOpened(
            Outcome.NOTHING_TO_DISPUTE,
            "no dispute against " + about + ": one is already open on " + pair.get());
      }
      // Contract version 6: a dispute freezes at most what this pair paid that is still inside the
      // challenge window (not collected, never disputed).
      BigInteger paid = chain.pairState(pair.get()).paidWei();
      BigInteger amount = chain.pairEarnings(pair.get()).inWindowWei();
      if (amount.signum() <= 0) {
        return DisputeFiling.notOpened(
            Outcome.NOTHING_TO_DISPUTE,
            "no dispute against "
                + about
                + ": the job paid "
                + tokens(paid)
                + ", of which nothing not yet disputed is still inside the challenge window"
                + unlanded.orElse(""));
      }
      String tx =
          chain.openDispute(
              pair.get(), amount, evidence.bytes(), whistleblower.orElseGet(chain::signerAddress));
      SettlementReceipt r = mined(tx);
      if (!r.success()) {
        return DisputeFiling.notOpened(
            Outcome.FAILED, "dispute against " + about + " reverted: " + r.revertReason());
      }
      return DisputeFiling.opened(
          amount,
          tx,
          "dispute opened against "
              + about
              + ": "
              + tokens(amount)
              + " frozen, tx "
              + tx
              + unlanded.orElse(""));
    } catch (ChainRevertException e) {
      return DisputeFiling.notOpened(
          Outcome.FAILED, "the contract refused a dispute against " + about + ": " + e.error());
    } catch (ChainException e) {
      return DisputeFiling.notOpened(
          Outcome.FAILED, "no dispute against " + about + ": " + e.getMessage());
    }
  }

  DisputeResolution resolve(JobRef job, String provider, boolean fraud) {
    String verdict = fraud ? "fraud" : "no fraud";
    String about = provider + " over " + job;
    try {
      Optional<PairId> pair = pair(job, provider);
      if (pair.isEmpty() || !chain.dispute(pair.get()).open()) {
        return new DisputeResolution(
            DisputeResolution.Outcome.NO_OPEN_DISPUTE,
            Optional.empty(),
            "no open dispute against " + about);
      }
      String tx = chain.resolveDispute(pair.get(), fraud);
      SettlementReceipt r = mined(tx);
      if (!r.success()) {
        return new DisputeResolution(
            DisputeResolution.Outcome.FAILED,
            Optional.of(tx),
            "resolving the dispute against " + about + " reverted: " + r.revertReason());
      }
      return new DisputeResolution(
          DisputeResolution.Outcome.RESOLVED,
          Optional.of(tx),
          "dispute against " + about + " resolved as " + verdict + ", tx " + tx);
    } catch (ChainRevertException e) {
      return new DisputeResolution(
          DisputeResolution.Outcome.FAILED,
          Optional.empty(),
          "the contract refused to resolve the dispute against " + about + ": " + e.error());
    } catch (ChainException e) {
      return new DisputeResolution(
          DisputeResolution.Outcome.FAILED,
          Optional.empty(),
          "resolving the dispute against " + about + " failed: " + e.getMessage());
    }
  }

  /**
   * End the pair's dispute with {@code expireDispute}: open past the contract's deadline, it can no
   * longer be resolved, only ended as no fraud. Needs neither the job nor the provider to be known.
   */
  DisputeResolution expire(PairId pair) {
    try {
      if (!chain.dispute(pair).open()) {
        return new DisputeResolution(
            DisputeResolution.Outcome.NO_OPEN_DISPUTE,
            Optional.empty(),
            "no open dispute on " + pair);
      }
      String tx = chain.expireDispute(pair);
      SettlementReceipt r = mined(tx);
      if (!r.success()) {
        return new DisputeResolution(
            DisputeResolution.Outcome.FAILED,
            Optional.of(tx),
            "expiring the dispute on " + pair + " reverted: " + r.revertReason());
      }
      return new DisputeResolution(
          DisputeResolution.Outcome.RESOLVED,
          Optional.of(tx),
          "dispute on "
              + pair
              + " open past the contract's deadline ended as no fraud (expireDispute), tx "
              + tx);
    } catch (ChainRevertException e) {
      return new DisputeResolution(
          DisputeResolution.Outcome.FAILED,
          Optional.empty(),
          "the contract refused to expire the dispute on " + pair + ": " + e.error());
    } catch (ChainException e) {
      return new DisputeResolution(
          DisputeResolution.Outcome.FAILED,
          Optional.empty(),
          "expiring the dispute on " + pair + " failed: " + e.getMessage());
    }
  }

  StakeSlashing slash(String provider, EvidenceHash evidence, String reason) {
    String about = provider + "'s stake (" + reason + ")";
    try {
      Optional<String> address = providerAddress.apply(provider);
      if (address.isEmpty()) {
        return new StakeSlashing(
            StakeSlashing.Outcome.REFUSED,
            Optional.empty(),
            "not slashing " + about + ": the provider has no payout address");
      }
      BigInteger before = chain.stake(address.get()).stakedWei();
      String tx =
          chain.slashStake(
              address.get(), evidence.bytes(), whistleblower.orElseGet(chain::signerAddress));
      SettlementReceipt r = mined(tx);
      if (!r.success()) {
        return new StakeSlashing(
            StakeSlashing.Outcome.FAILED,
            Optional.of(tx),
            "slashing " + about + " reverted: " + r.revertReason());
      }
      BigInteger after = chain.stake(address.get()).stakedWei();
      return new StakeSlashing(
          StakeSlashing.Outcome.SLASHED,
          Optional.of(tx),
          "slashed "
              + about
              + " from "
              + tokens(before)
              + " to "
              + tokens(after)
              + ", whistleblower "
              + whistleblower.orElseGet(chain::signerAddress)
              + " rewarded");
    } catch (ChainRevertException e) {
      return new StakeSlashing(
          StakeSlashing.Outcome.REFUSED,
          Optional.empty(),
          "the contract refused to slash " + about + ": " + e.error());
    } catch (ChainException e) {
      return new StakeSlashing(
          StakeSlashing.Outcome.FAILED,
          Optional.empty(),
          "slashing " + about + " failed: " + e.getMessage());
    }
  }

  /**
   * Waits until every settlement of {@code pair} signed before this call is confirmed (later ones
   * are not waited for: the pair's usage is forfeited before a fraud dispute, so none is signed).
   * Empty when they all landed; otherwise, after the timeout, what the dispute does not cover.
   */
  private Optional<String> settlementsLanded(PairId pair) {
    Set<Long> waiting = new TreeSet<>(unconfirmedSettlements.apply(pair));
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!waiting.isEmpty()) {
      if (System.nanoTime() > deadline) {
        return Optional.of(
            "; settlement nonce "
                + waiting
                + " of the pair still unconfirmed after "
                + timeout
                + ": what it pays is not covered");
      }
      pause();
      waiting.retainAll(unconfirmedSettlements.apply(pair));
    }
    return Optional.empty();
  }

  /** The job's pair with the provider's address (the one that paid most, if it had several). */
  private Optional<PairId> pair(JobRef job, String provider) {
    Optional<String> address = providerAddress.apply(provider);
    if (address.isEmpty()) {
      return Optional.empty();
    }
    String a = address.get().toLowerCase(Locale.ROOT);
    return pairsOfJob.apply(job.uid()).stream()
        .filter(p -> p.provider().equals(a))
        .max((x, y) -> chain.pairState(x).paidWei().compareTo(chain.pairState(y).paidWei()));
  }

  private SettlementReceipt mined(String tx) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Optional<SettlementReceipt> r = chain.receipt(tx);
      if (r.isPresent()) {
        return r.get();
      }
      if (System.nanoTime() > deadline) {
        throw new ChainException("transaction " + tx + " not mined within " + timeout, null);
      }
      pause();
    }
  }

  private void pause() {
    try {
      Thread.sleep(poll.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ChainException("interrupted while waiting for the chain", e);
    }
  }

  private String tokens(BigInteger wei) {
    return TokenUnits.fromWei(wei).toPlainString() + " " + symbol;
  }
}
