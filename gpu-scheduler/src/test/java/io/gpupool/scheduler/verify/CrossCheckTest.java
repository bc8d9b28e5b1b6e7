package io.gpupool.scheduler.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.scheduler.verify.CanaryComparison.Mode;
import io.gpupool.scheduler.verify.CrossCheck.Outcome;
import io.gpupool.scheduler.verify.CrossCheck.Reply;
import io.gpupool.scheduler.verify.CrossCheck.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CrossCheckTest {
  private static final CanaryComparison EXACT = new CanaryComparison(Mode.EXACT_TOKENS, 0);

  private static Reply reply(String replica, String provider, String... texts) {
    List<Optional<CanaryAnswer>> answers = new ArrayList<>();
    for (String t : texts) {
      answers.add(t == null ? Optional.empty() : Optional.of(CanaryAnswer.text(t)));
    }
    return new Reply(replica, provider, answers);
  }

  @Test
  void replicasThatAllAgreePass() {
    Verdict v =
        CrossCheck.judge(
            List.of(
                reply("r0", "a", "xy", "zz"),
                reply("r1", "b", "xy", "zz"),
                reply("r2", "c", "xy", "zz")),
            2,
            EXACT);
    assertThat(v.outcome()).isEqualTo(Outcome.AGREED);
    assertThat(v.dissents()).isEmpty();
  }

  @Test
  void theReplicaServingAnotherModelIsCaughtWithTheMajorityAsWitness() {
    Verdict v =
        CrossCheck.judge(
            List.of(
                reply("r0", "a", "xy", "zz"),
                reply("r1", "cheat", "xy", "qq"),
                reply("r2", "c", "xy", "zz")),
            2,
            EXACT);
    assertThat(v.outcome()).isEqualTo(Outcome.CAUGHT);
    assertThat(v.dissents()).hasSize(1);
    CrossCheck.Dissent d = v.dissents().get(0);
    assertThat(d.reply().replica()).isEqualTo("r1");
    assertThat(d.prompt()).isEqualTo(1);
    assertThat(d.majority().replica()).isEqualTo("r0");
    assertThat(d.why()).isEqualTo("tokens differ from token 0");
    assertThat(v.message()).contains("r1 (cheat)");
  }

  @Test
  void votesCountProvidersSoACheaterWithTwoReplicasCannotOutvoteTwoHonestProviders() {
    Verdict v =
        CrossCheck.judge(
            List.of(
                reply("r0", "cheat", "qq"),
                reply("r1", "cheat", "qq"),
                reply("r2", "a", "xy"),
                reply("r3", "b", "xy")),
            1,
            EXACT);
    assertThat(v.outcome()).isEqualTo(Outcome.CAUGHT);
    assertThat(v.dissents()).extracting(d -> d.reply().replica()).containsExactly("r0", "r1");
  }

  @Test
  void twoProvidersThatDisagreeCannotSayWhichIsWrong() {
    Verdict v = CrossCheck.judge(List.of(reply("r0", "a", "xy"), reply("r1", "b", "qq")), 1, EXACT);
    assertThat(v.outcome()).isEqualTo(Outcome.INCONCLUSIVE);
    assertThat(v.dissents()).isEmpty();
    assertThat(v.message()).contains("[r0 (a)] vs [r1 (b)]");
  }

  @Test
  void replicasOfOneProviderAloneAreNotACrossCheck() {
    Verdict v = CrossCheck.judge(List.of(reply("r0", "a", "xy"), reply("r1", "a", "qq")), 1, EXACT);
    assertThat(v.outcome()).isEqualTo(Outcome.TOO_FEW_PROVIDERS);
  }

  @Test
  void aMissingAnswerIsNeitherAgreementNorDissent() {
    Verdict v =
        CrossCheck.judge(
            List.of(
                reply("r0", "a", "xy"), reply("r1", "b", (String) null), reply("r2", "c", "xy")),
            1,
            EXACT);
    assertThat(v.outcome()).isEqualTo(Outcome.AGREED);
    Verdict alone =
        CrossCheck.judge(
            List.of(reply("r0", "a", "xy"), reply("r1", "b", (String) null)), 1, EXACT);
    assertThat(alone.outcome()).isEqualTo(Outcome.TOO_FEW_PROVIDERS);
  }

  @Test
  void withoutAStrictMajorityOfProvidersNobodyIsCaught() {
    Verdict v =
        CrossCheck.judge(
            List.of(
                reply("r0", "a", "xy"),
                reply("r1", "b", "xy"),
                reply("r2", "c", "qq"),
                reply("r3", "d", "qq")),
            1,
            EXACT);
    assertThat(v.outcome()).isEqualTo(Outcome.INCONCLUSIVE);
  }

  @Test
  void answersForAnotherNumberOfPromptsAreRefused() {
    assertThatThrownBy(() -> CrossCheck.judge(List.of(reply("r0", "a", "xy")), 2, EXACT))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
