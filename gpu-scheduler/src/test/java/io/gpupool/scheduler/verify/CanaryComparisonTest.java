package io.gpupool.scheduler.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.scheduler.verify.CanaryComparison.Mode;
import java.util.List;
import org.junit.jupiter.api.Test;

class CanaryComparisonTest {
  private static final CanaryComparison EXACT = new CanaryComparison(Mode.EXACT_TOKENS, 0);
  private static final CanaryComparison LOGPROB = new CanaryComparison(Mode.LOGPROB, 0.05);

  private static CanaryAnswer answer(List<String> tokens, List<Double> logprobs) {
    return new CanaryAnswer(String.join("", tokens), tokens, logprobs);
  }

  @Test
  void exactTokensAgreeOnlyOnIdenticalText() {
    assertThat(EXACT.compare(CanaryAnswer.text("the gang"), CanaryAnswer.text("the gang")).agree())
        .isTrue();
    CanaryComparison.Agreement differ =
        EXACT.compare(CanaryAnswer.text("the gang"), CanaryAnswer.text("the gain"));
    assertThat(differ.agree()).isFalse();
    assertThat(differ.why()).isEqualTo("tokens differ from token 6");
  }

  @Test
  void exactTokensCatchAShorterAnswer() {
    assertThat(EXACT.compare(CanaryAnswer.text("the"), CanaryAnswer.text("the gang")).agree())
        .isFalse();
  }

  @Test
  void logprobsWithinToleranceAgreeAndBeyondItDisagree() {
    CanaryAnswer a = answer(List.of("a", "b", "c"), List.of(-0.10, -0.20, -0.30));
    CanaryAnswer close = answer(List.of("a", "b", "c"), List.of(-0.12, -0.21, -0.33));
    CanaryAnswer far = answer(List.of("a", "b", "c"), List.of(-0.40, -0.90, -0.05));
    CanaryComparison.Agreement near = LOGPROB.compare(a, close);
    assertThat(near.agree()).isTrue();
    assertThat(near.distance()).isCloseTo(0.02, org.assertj.core.data.Offset.offset(1e-9));
    CanaryComparison.Agreement apart = LOGPROB.compare(a, far);
    assertThat(apart.agree()).isFalse();
    assertThat(apart.distance()).isCloseTo(1.25 / 3, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(apart.why()).contains("above tolerance 0.0500");
  }

  @Test
  void aNearTieFlippedByAnotherGpuIsAgreementButAConfidentFlipIsNot() {
    CanaryAnswer a = answer(List.of("a", "x", "y"), List.of(-0.10, -0.70, -0.20));
    // both chose their token with probability ~0.5: a runner-up was as likely
    CanaryAnswer tie = answer(List.of("a", "z", "w"), List.of(-0.11, -0.71, -0.05));
    assertThat(LOGPROB.compare(a, tie).agree()).isTrue();
    // another model: confident (p ~ 0.9) in another token
    CanaryAnswer confident = answer(List.of("a", "z", "w"), List.of(-0.11, -0.10, -0.05));
    CanaryComparison.Agreement flip = LOGPROB.compare(a, confident);
    assertThat(flip.agree()).isFalse();
    assertThat(flip.why()).contains("not a near tie");
  }

  @Test
  void logprobModeFallsBackToExactTokensWithoutLogprobs() {
    assertThat(LOGPROB.compare(CanaryAnswer.text("abc"), CanaryAnswer.text("abd")).agree())
        .isFalse();
    assertThat(LOGPROB.compare(CanaryAnswer.text("abc"), CanaryAnswer.text("abc")).agree())
        .isTrue();
  }

  @Test
  void logprobsOfAnotherLengthThanTheTokensAreRefused() {
    assertThatThrownBy(() -> new CanaryAnswer("ab", List.of("a", "b"), List.of(-0.1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new CanaryComparison(Mode.LOGPROB, Double.NaN))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
