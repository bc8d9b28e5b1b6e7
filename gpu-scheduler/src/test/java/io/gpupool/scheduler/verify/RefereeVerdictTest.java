package io.gpupool.scheduler.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.scheduler.verify.RefereeVerdict.Outcome;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RefereeVerdictTest {

  @ParameterizedTest
  @CsvSource({
    // toProvider, toVerifier, outcome
    "0.02, 1e-15, PROVIDER_AT_FAULT",
    "Infinity, 0, PROVIDER_AT_FAULT",
    "1e-15, 0.02, VERIFIER_AT_FAULT",
    "0.02, 0.03, INCONCLUSIVE",
    "1e-15, 1e-15, INCONCLUSIVE",
    "NaN, NaN, INCONCLUSIVE",
    "1e-4, 0.5, VERIFIER_AT_FAULT"
  })
  void onlyAClearAnswerBlamesOneSide(double toProvider, double toVerifier, Outcome expected) {
    RefereeVerdict v = RefereeVerdict.decide(13, toProvider, toVerifier, 1e-4);
    assertThat(v.outcome()).isEqualTo(expected);
    assertThat(v.message()).contains("step 13 recomputed");
  }
}
