package io.gpupool.scheduler.trust;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.trust.ChallengeVerdict.Outcome;
import io.gpupool.scheduler.trust.ChallengeVerdict.SpeedCorrection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A commit-then-open challenge judged as the operator does: the commitment's arrival is timed, the
 * openings checked. Honest nodes pass; a node that skipped products, committed made-up digests, or
 * does not open where asked fails, each with its own outcome.
 */
class CommitThenOpenVerdictTest {
  static final GpuSpec H100 = GpuCatalog.defaults().lookup("NVIDIA-H100-80GB-HBM3", 0, null);
  static final TimingModel TIMING = new TimingModel(1e-8, 2.0, Duration.ofSeconds(3));
  static final Challenge C = new Challenge("00112233445566778899aabbccddeeff", 32, 120);
  static final byte[] SECRET = "another operator secret of 32 b!".getBytes(StandardCharsets.UTF_8);
  static final Instant T0 = Instant.parse("2026-12-07T00:00:00Z");
  static final Duration WINDOW = Duration.ofSeconds(5);
  static final SpeedCorrection NO_CORRECTION = new SpeedCorrection(1.0, 1.0);

  private static List<String> committed(boolean skipOdd) {
    List<String> out = new ArrayList<>();
    for (int r = 0; r < C.rounds(); r++) {
      out.add(skipOdd && r % 2 == 1 ? String.format("%016x", r) : ChallengeWork.roundDigest(C, r));
    }
    return out;
  }

  /** The operator's side: draws after the root, checks, classifies at {@code committedAfter}. */
  private static ChallengeVerdict judge(
      List<String> digests, Duration committedAfter, boolean openAll, Duration openingTook) {
    Instant at = T0.plus(committedAfter);
    LeafOpenings.Commitment commitment =
        new LeafOpenings.Commitment(DigestTree.root(digests), digests.size(), at);
    LeafOpenings.Request request = LeafOpenings.draw(SECRET, C, commitment, 8, at);
    List<DigestTree.Opening> openings =
        request.positions().stream()
            .limit(openAll ? Long.MAX_VALUE : request.positions().size() - 1)
            .map(p -> DigestTree.open(digests, p))
            .toList();
    // Through the wire, as the runner receives them.
    openings = ChallengeWire.parseOpenings(ChallengeWire.openings(openings));
    Optional<LeafOpenings.Problem> problem =
        LeafOpenings.check(SECRET, C, commitment, request, openings, at.plus(openingTook), WINDOW);
    return ChallengeVerdict.classifyOpened(
            C,
            Optional.of(problem),
            committedAfter,
            Optional.empty(),
            H100,
            1,
            TIMING,
            NO_CORRECTION)
        .orElseThrow();
  }

  private static Duration inTime() {
    return Duration.ofMillis(500 + (long) (TIMING.expectedSeconds(C, H100, 1) * 1000));
  }

  @Test
  void anHonestNodeCommittingInTimeAndOpeningPasses() {
    ChallengeVerdict v = judge(committed(false), inTime(), true, Duration.ofMillis(50));
    assertThat(v.outcome()).isEqualTo(Outcome.PASSED);
  }

  @Test
  void aNodeThatSkippedHalfItsProductsIsAWrongResultNamingTheLeaf() {
    // 8 openings of a half-skipped tree: all eight land on computed leaves with p = 1/256; this
    // secret and nonce are not that case (deterministic).
    ChallengeVerdict v = judge(committed(true), inTime(), true, Duration.ofMillis(50));
    assertThat(v.outcome()).isEqualTo(Outcome.WRONG_RESULT);
    assertThat(v.message()).startsWith("wrong result: leaf ").contains("of 120 commits digest");
  }

  @Test
  void aMissingOpeningIsAFailedOpening() {
    ChallengeVerdict v = judge(committed(false), inTime(), false, Duration.ofMillis(50));
    assertThat(v.outcome()).isEqualTo(Outcome.FAILED_OPENING);
    assertThat(v.message())
        .startsWith("failed opening: leaf ")
        .endsWith("was asked for and not opened");
  }

  @Test
  void aLateOpeningIsAFailedOpening() {
    ChallengeVerdict v = judge(committed(false), inTime(), true, WINDOW.plusMillis(1));
    assertThat(v.outcome()).isEqualTo(Outcome.FAILED_OPENING);
    assertThat(v.message()).contains("late opening");
  }

  @Test
  void aCommitmentAfterTheDeadlineIsTooSlowAndNoneAtAllToo() {
    Duration deadline = TIMING.deadline(C, H100, 1);
    ChallengeVerdict late = judge(committed(false), deadline.plusMillis(1), true, Duration.ZERO);
    assertThat(late.outcome()).isEqualTo(Outcome.TOO_SLOW);
    Optional<ChallengeVerdict> waiting =
        ChallengeVerdict.classifyOpened(
            C,
            Optional.empty(),
            deadline.minusMillis(1),
            Optional.empty(),
            H100,
            1,
            TIMING,
            NO_CORRECTION);
    assertThat(waiting).isEmpty();
    ChallengeVerdict none =
        ChallengeVerdict.classifyOpened(
                C,
                Optional.empty(),
                deadline.plusMillis(1),
                Optional.empty(),
                H100,
                1,
                TIMING,
                NO_CORRECTION)
            .orElseThrow();
    assertThat(none.outcome()).isEqualTo(Outcome.TOO_SLOW);
    assertThat(none.message()).startsWith("no answer after");
  }
}
