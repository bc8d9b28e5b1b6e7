package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** One wording of a slash for every event that reports one (challenges, spot-checks, canaries). */
class StakeSlashingTest {

  @Test
  void aSlashNamesItsTransactionThenWhatHappened() {
    assertThat(
            new StakeSlashing(
                    StakeSlashing.Outcome.SLASHED, Optional.of("0xabc"), "slashed p from 4 to 2")
                .describe())
        .isEqualTo("stake slashed in 0xabc: slashed p from 4 to 2");
  }

  @Test
  void aSlashNotGivenSaysWhyInLowerCase() {
    assertThat(
            new StakeSlashing(StakeSlashing.Outcome.REFUSED, Optional.empty(), "SlashTooSoon")
                .describe())
        .isEqualTo("stake not slashed (refused): SlashTooSoon");
    assertThat(
            new StakeSlashing(StakeSlashing.Outcome.FAILED, Optional.of("0xdef"), "reverted")
                .describe())
        .isEqualTo("stake not slashed (failed) in 0xdef: reverted");
  }

  @Test
  void challengeAndFraudDisputeReportsWordASlashAlike() {
    StakeSlashing slash =
        new StakeSlashing(StakeSlashing.Outcome.SLASHED, Optional.of("0x1"), "from 10 to 5");
    String fraud =
        new FraudDisputes.Outcome(
                DisputeFiling.notOpened(DisputeFiling.Outcome.NOTHING_TO_DISPUTE, "paid 0"),
                Optional.empty(),
                Optional.of(slash))
            .describe();
    assertThat(fraud).endsWith("; " + slash.describe());
  }
}
