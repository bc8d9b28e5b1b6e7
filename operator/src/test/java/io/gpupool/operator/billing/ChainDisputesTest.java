package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.billing.PairId;
import io.gpupool.billing.chain.ChainRevertException;
import io.gpupool.billing.chain.ChainUnavailableException;
import io.gpupool.billing.chain.DecodedError;
import io.gpupool.billing.chain.DisputeState;
import io.gpupool.billing.chain.MaturingEarnings;
import io.gpupool.billing.chain.PairOnChain;
import io.gpupool.billing.chain.SettlementReceipt;
import io.gpupool.billing.chain.StakeState;
import io.gpupool.billing.chain.TrustChain;
import io.gpupool.operator.billing.DisputeFiling.Outcome;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ChainDisputesTest {
  static final String PAYER = "0x" + "1".repeat(40);
  static final String LIAR = "0x" + "2".repeat(40);
  static final String OTHER = "0x" + "3".repeat(40);
  static final JobRef JOB = new JobRef("TrainingJob", "team", "llama", "uid-1");
  static final PairId PAIR = new PairId("uid-1", PAYER, LIAR);
  static final EvidenceHash EVIDENCE = EvidenceHash.sha256("nonce 1: expected 2, got 3");

  /** A contract in memory: paid per pair, maturing per provider, open disputes. */
  static final class FakeTrustChain implements TrustChain {
    BigInteger paid = BigInteger.valueOf(1_000);
    BigInteger maturing = BigInteger.valueOf(600);
    BigInteger disputedTotal = BigInteger.ZERO;
    boolean open;
    boolean revert;
    boolean down;
    final List<String> sent = new ArrayList<>();

    @Override
    public StakeState stake(String provider) {
      return StakeState.NONE;
    }

    @Override
    public MaturingEarnings earnings(String provider) {
      return new MaturingEarnings(BigInteger.ZERO, maturing, 0);
    }

    /** The pair holds what it paid less what was disputed; `maturing` of it is in the window. */
    @Override
    public io.gpupool.billing.chain.ProviderEarnings.PairEarnings pairEarnings(PairId pair) {
      BigInteger held = paid.subtract(disputedTotal);
      BigInteger inWindow = held.min(maturing);
      return new io.gpupool.billing.chain.ProviderEarnings.PairEarnings(
          held, held.subtract(inWindow), 0);
    }

    @Override
    public Duration challengeWindow() {
      return Duration.ofMinutes(1);
    }

    @Override
    public DisputeState dispute(PairId pair) {
      if (down) {
        throw new ChainUnavailableException("connection refused", null);
      }
      return new DisputeState(BigInteger.ZERO, disputedTotal, OTHER, 0, open);
    }

    @Override
    public String openDispute(
        PairId pair, BigInteger amount, byte[] evidence, String whistleblower) {
      if (revert) {
        throw new ChainRevertException(
            new DecodedError("DisputeExceedsPaid", "0x12345678", List.of()), null);
      }
      sent.add("open " + pair + " " + amount + " to " + whistleblower);
      open = true;
      disputedTotal = disputedTotal.add(amount);
      return "0xopen";
    }

    @Override
    public String resolveDispute(PairId pair, boolean fraud) {
      sent.add("resolve " + pair + " " + fraud);
      open = false;
      return "0xresolve";
    }

    @Override
    public Duration disputeDeadline() {
      return Duration.ofDays(30);
    }

    @Override
    public java.time.Instant chainTime() {
      return java.time.Instant.EPOCH;
    }

    @Override
    public String slashStake(String provider, byte[] evidenceHash, String whistleblower) {
      sent.add("slash " + provider);
      return "0xslash";
    }

    @Override
    public String expireDispute(PairId pair) {
      sent.add("expire " + pair);
      open = false;
      return "0xexpire";
    }

    @Override
    public String signerAddress() {
      return OTHER;
    }

    @Override
    public PairOnChain pairState(PairId pair) {
      return new PairOnChain(paid, paid);
    }

    @Override
    public Optional<SettlementReceipt> receipt(String txHash) {
      return Optional.of(new SettlementReceipt(txHash, true, 7, BigInteger.ONE, List.of(), null));
    }
  }

  final FakeTrustChain chain = new FakeTrustChain();

  /** The pair's settlements not yet confirmed, as the settlement loop answers (none by default). */
  java.util.function.Function<PairId, Set<Long>> unconfirmed = pair -> Set.of();

  ChainDisputes disputes(Map<String, String> addresses) {
    return new ChainDisputes(
        chain,
        uid -> uid.equals("uid-1") ? List.of(PAIR, new PairId("uid-1", PAYER, OTHER)) : List.of(),
        name -> Optional.ofNullable(addresses.get(name)),
        pair -> unconfirmed.apply(pair),
        Optional.empty(),
        Duration.ofSeconds(1),
        Duration.ofMillis(1),
        "ETH");
  }

  @Test
  void anOpenDisputeIsExpiredByItsPairAloneAndAClosedOneIsLeftAlone() {
    ChainDisputes d = disputes(Map.of());
    assertThat(d.expire(PAIR).outcome()).isEqualTo(DisputeResolution.Outcome.NO_OPEN_DISPUTE);
    assertThat(chain.sent).isEmpty();
    chain.open = true;
    DisputeResolution r = d.expire(PAIR);
    assertThat(r.outcome()).as(r.message()).isEqualTo(DisputeResolution.Outcome.RESOLVED);
    assertThat(r.txHash()).contains("0xexpire");
    assertThat(chain.sent).containsExactly("expire " + PAIR);
  }

  @Test
  void theDisputedAmountIsWhatThePairPaidBoundedByWhatIsStillInTheWindow() {
    DisputeFiling f = disputes(Map.of("liar", LIAR)).open(JOB, "liar", EVIDENCE, "wrong result");
    assertThat(f.outcome()).isEqualTo(Outcome.OPENED);
    assertThat(f.frozenWei()).isEqualTo(BigInteger.valueOf(600));
    assertThat(f.txHash()).contains("0xopen");
    assertThat(chain.sent).containsExactly("open " + PAIR + " 600 to " + OTHER);
    assertThat(f.message()).contains("liar over TrainingJob(team/llama)").contains("frozen");
  }

  @Test
  void aSettlementOfThePairSignedBeforeTheFilingIsWaitedForAndItsPaymentFrozenToo() {
    chain.maturing = BigInteger.valueOf(10_000);
    List<PairId> asked = new ArrayList<>();
    unconfirmed =
        pair -> {
          asked.add(pair);
          if (asked.size() < 4) {
            return Set.of(5L);
          }
          chain.paid = BigInteger.valueOf(1_800); // nonce 5 confirmed
          return Set.of();
        };
    DisputeFiling f = disputes(Map.of("liar", LIAR)).open(JOB, "liar", EVIDENCE, "spot-check");
    assertThat(f.outcome()).as(f.message()).isEqualTo(Outcome.OPENED);
    assertThat(f.frozenWei()).isEqualTo(BigInteger.valueOf(1_800));
    assertThat(asked).hasSize(4).containsOnly(PAIR);
    assertThat(f.message()).doesNotContain("unconfirmed");
  }

  @Test
  void settlementsSignedAfterTheFilingStartedAreNotWaitedFor() {
    List<Set<Long>> answers = new ArrayList<>(List.of(Set.of(5L), Set.of(6L)));
    unconfirmed = pair -> answers.size() > 1 ? answers.remove(0) : answers.get(0);
    DisputeFiling f = disputes(Map.of("liar", LIAR)).open(JOB, "liar", EVIDENCE, "spot-check");
    assertThat(f.outcome()).as(f.message()).isEqualTo(Outcome.OPENED);
    assertThat(f.frozenWei()).isEqualTo(BigInteger.valueOf(600));
  }

  @Test
  void aSettlementThatNeverLandsIsWaitedForOnlyUntilTheTimeoutAndTheFilingSaysSo() {
    unconfirmed = pair -> Set.of(5L, 7L);
    DisputeFiling f = disputes(Map.of("liar", LIAR)).open(JOB, "liar", EVIDENCE, "spot-check");
    assertThat(f.outcome()).as(f.message()).isEqualTo(Outcome.OPENED);
    assertThat(f.frozenWei()).isEqualTo(BigInteger.valueOf(600));
    assertThat(f.message())
        .contains("settlement nonce [5, 7] of the pair still unconfirmed after PT1S")
        .contains("not covered");
  }

  @Test
  void aSecondDisputeWhileOneIsOpenIsNotSent() {
    disputes(Map.of("liar", LIAR)).open(JOB, "liar", EVIDENCE, "wrong result");
    DisputeFiling again = disputes(Map.of("liar", LIAR)).open(JOB, "liar", EVIDENCE, "again");
    assertThat(again.outcome()).isEqualTo(Outcome.NOTHING_TO_DISPUTE);
    assertThat(again.message()).contains("already open");
    assertThat(chain.sent).hasSize(1);
  }

  @Test
  void nothingInTheWindowOrNoUsageOnTheProviderIsNothingToDispute() {
    chain.maturing = BigInteger.ZERO;
    DisputeFiling late = disputes(Map.of("liar", LIAR)).open(JOB, "liar", EVIDENCE, "late");
    assertThat(late.outcome()).isEqualTo(Outcome.NOTHING_TO_DISPUTE);
    assertThat(late.message()).contains("inside the challenge window");
    DisputeFiling unknown = disputes(Map.of()).open(JOB, "liar", EVIDENCE, "who");
    assertThat(unknown.outcome()).isEqualTo(Outcome.NOTHING_TO_DISPUTE);
    assertThat(chain.sent).isEmpty();
  }

  @Test
  void aRefusalOrAnUnreachableChainIsAFailureWithTheReason() {
    chain.revert = true;
    DisputeFiling refused = disputes(Map.of("liar", LIAR)).open(JOB, "liar", EVIDENCE, "x");
    assertThat(refused.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(refused.message()).contains("DisputeExceedsPaid");
    chain.down = true;
    DisputeFiling down = disputes(Map.of("liar", LIAR)).open(JOB, "liar", EVIDENCE, "x");
    assertThat(down.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(down.message()).contains("connection refused");
  }

  @Test
  void resolvingNeedsAnOpenDispute() {
    ChainDisputes d = disputes(Map.of("liar", LIAR));
    assertThat(d.resolve(JOB, "liar", true).outcome())
        .isEqualTo(DisputeResolution.Outcome.NO_OPEN_DISPUTE);
    d.open(JOB, "liar", EVIDENCE, "wrong result");
    DisputeResolution r = d.resolve(JOB, "liar", true);
    assertThat(r.outcome()).isEqualTo(DisputeResolution.Outcome.RESOLVED);
    assertThat(r.message()).contains("resolved as fraud");
    assertThat(chain.sent).last().isEqualTo("resolve " + PAIR + " true");
  }
}
