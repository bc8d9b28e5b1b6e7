package io.gpupool.operator.verification;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.scheduler.verify.IntervalReport;
import io.gpupool.scheduler.verify.SpotCheck;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VerifierOutputTest {
  // Shaped as ddp_train.py --verify prints it (docs/workloads.md), shortened.
  private static final String LOG =
      "verify: replayed steps 1..4\n"
          + "GPUPOOL-VERIFICATION {\"from\":0,\"to\":4,\"ranks\":{"
          + "\"0\":{\"intact\":true,\"distances\":[[1,2.0e-17],[2,3.2e-17],[3,0.14],[4,\"Infinity\"]]},"
          + "\"1\":{\"intact\":false,\"distances\":[[1,2.0e-17]]}}}\n";

  @Test
  void aVerifiersLogLineBecomesOneReportPerRank() {
    Map<Integer, IntervalReport> reports =
        VerifierOutput.interval(VerifierOutput.resultLine(LOG).orElseThrow());
    assertThat(reports).containsOnlyKeys(0, 1);
    IntervalReport rank0 = reports.get(0);
    assertThat(rank0.fromStep()).isZero();
    assertThat(rank0.toStep()).isEqualTo(4);
    assertThat(rank0.distances()).hasSize(4);
    assertThat(rank0.distances().get(3).distance()).isInfinite();
    SpotCheck.Judgement j = SpotCheck.judge(rank0, 1e-4);
    assertThat(j.outcome()).isEqualTo(SpotCheck.Outcome.MISMATCH);
    assertThat(j.step()).isEqualTo(3);
    assertThat(SpotCheck.judge(reports.get(1), 1e-4).outcome())
        .isEqualTo(SpotCheck.Outcome.BROKEN_COMMITMENT);
  }

  @Test
  void aRefereesResultIsRead() {
    VerifierOutput.RefereeResult r =
        VerifierOutput.referee(
            "{\"step\":7,\"rank\":1,\"from\":6,\"toProvider\":0.14,\"toVerifier\":1.2e-16}");
    assertThat(r).isEqualTo(new VerifierOutput.RefereeResult(7, 1, 6, 0.14, 1.2e-16));
  }

  @Test
  void theCommittedDigestARefereeReportsIsReadOnlyWhenItIsOne() {
    String digest = "0123456789abcdef".repeat(4);
    assertThat(VerifierOutput.committedDigest("{\"step\":7,\"committed\":\"" + digest + "\"}"))
        .contains(digest);
    assertThat(VerifierOutput.committedDigest("{\"step\":7}")).isEmpty();
    assertThat(VerifierOutput.committedDigest("{\"committed\":\"not-a-digest\"}")).isEmpty();
  }

  @Test
  void aLogWithoutResultAndGarbageAreToldApart() {
    assertThat(VerifierOutput.resultLine("Traceback ...\n")).isEmpty();
    assertThatThrownBy(() -> VerifierOutput.interval("{\"from\":0}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("to");
    assertThatThrownBy(() -> VerifierOutput.interval("not json")).hasMessageContaining("not JSON");
    assertThatThrownBy(() -> VerifierOutput.interval("{\"from\":0,\"to\":4,\"ranks\":{\"x\":{}}}"))
        .hasMessageContaining("rank x");
  }
}
