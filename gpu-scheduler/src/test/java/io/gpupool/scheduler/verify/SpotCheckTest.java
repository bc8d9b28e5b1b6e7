package io.gpupool.scheduler.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.scheduler.verify.SpotCheck.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class SpotCheckTest {
  private static final double TOLERANCE = 1e-4;

  /** Distances of an interval 10..20 with a commitment every step; steps from `bad` on differ. */
  private static IntervalReport report(int bad) {
    List<StepDistance> d = new ArrayList<>();
    for (long s = 11; s <= 20; s++) {
      d.add(new StepDistance(s, s >= bad ? 0.003 * (s - bad + 1) : 1e-15));
    }
    return new IntervalReport(10, 20, d, true);
  }

  @Test
  void anHonestReplayIsVerified() {
    SpotCheck.Judgement j = SpotCheck.judge(report(99), TOLERANCE);
    assertThat(j.outcome()).isEqualTo(Outcome.VERIFIED);
    assertThat(j.step()).isEqualTo(20);
    assertThat(j.message()).contains("interval 10..20 replayed within tolerance");
  }

  @Property(tries = 30)
  void aMismatchIsNarrowedToTheFirstDifferingStep(@ForAll @IntRange(min = 11, max = 20) int bad) {
    SpotCheck.Judgement j = SpotCheck.judge(report(bad), TOLERANCE);
    assertThat(j.outcome()).isEqualTo(Outcome.MISMATCH);
    assertThat(j.step()).isEqualTo(bad);
    assertThat(j.probes()).isLessThanOrEqualTo(4); // ⌈log2 10⌉
    assertThat(j.message()).contains("at step " + bad).contains("agrees at step " + (bad - 1));
  }

  @Test
  void coarserCommitmentsNarrowToTheFirstDifferingCommitment() {
    // Commitments every 5 steps: a skip at step 13 shows first at the commitment of step 15.
    IntervalReport r =
        new IntervalReport(
            10, 20, List.of(new StepDistance(15, 0.01), new StepDistance(20, 0.02)), true);
    SpotCheck.Judgement j = SpotCheck.judge(r, TOLERANCE);
    assertThat(j.outcome()).isEqualTo(Outcome.MISMATCH);
    assertThat(j.step()).isEqualTo(15);
    assertThat(j.message()).contains("agrees at step 10");
  }

  @Test
  void publishedParametersContradictingTheDigestsAreABrokenCommitment() {
    IntervalReport r = new IntervalReport(10, 20, report(99).distances(), false);
    assertThat(SpotCheck.judge(r, TOLERANCE).outcome()).isEqualTo(Outcome.BROKEN_COMMITMENT);
  }

  @Test
  void aMissingCheckpointCommitmentIsABrokenCommitment() {
    IntervalReport r = new IntervalReport(10, 20, List.of(new StepDistance(15, 0)), true);
    SpotCheck.Judgement j = SpotCheck.judge(r, TOLERANCE);
    assertThat(j.outcome()).isEqualTo(Outcome.BROKEN_COMMITMENT);
    assertThat(j.message()).contains("no commitment at the checkpoint step 20");
  }

  @Test
  void aNonFiniteDistanceIsAMismatch() {
    IntervalReport r =
        new IntervalReport(
            10,
            20,
            List.of(new StepDistance(15, 0), new StepDistance(20, Double.POSITIVE_INFINITY)),
            true);
    SpotCheck.Judgement j = SpotCheck.judge(r, TOLERANCE);
    assertThat(j.outcome()).isEqualTo(Outcome.MISMATCH);
    assertThat(j.step()).isEqualTo(20);
  }

  @Test
  void theRankWhoseReplayDiffersFirstIsRefereedNotTheFirstRank() {
    // A pipeline's last stage skipped step 14: it differs from 14 on, stage 0 (whose gradient
    // passes through the wrong layers) from 15 on.
    Map<Integer, SpotCheck.Judgement> judged = new TreeMap<>();
    judged.put(0, SpotCheck.judge(report(15), TOLERANCE));
    judged.put(1, SpotCheck.judge(report(14), TOLERANCE));
    judged.put(2, SpotCheck.judge(report(99), TOLERANCE));
    assertThat(SpotCheck.firstMismatch(judged)).hasValue(1);
    judged.put(3, SpotCheck.judge(report(14), TOLERANCE));
    assertThat(SpotCheck.firstMismatch(judged)).as("a tie goes to the lower rank").hasValue(1);
    assertThat(SpotCheck.firstMismatch(Map.of(0, SpotCheck.judge(report(99), TOLERANCE))))
        .isEmpty();
    Map<Integer, SpotCheck.Judgement> broken =
        Map.of(0, SpotCheck.judge(new IntervalReport(10, 20, List.of(), false), TOLERANCE));
    assertThat(SpotCheck.firstMismatch(broken)).as("broken commitments are not refereed").isEmpty();
  }
}
