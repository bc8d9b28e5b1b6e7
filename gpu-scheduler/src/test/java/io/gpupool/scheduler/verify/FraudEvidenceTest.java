package io.gpupool.scheduler.verify;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FraudEvidenceTest {

  @Test
  void theCanonicalTextIsPinned() {
    FraudEvidence e =
        new FraudEvidence("ns/job (uid-1)", "cheap-gpus", 10, 13, "ab12", 0.02, 1e-15, 1e-4);
    // The hash on chain is of these bytes: changing the text breaks every filed dispute's check.
    assertThat(e.canonical())
        .isEqualTo(
            """
            gpupool training spot-check v1
            job=ns/job (uid-1)
            provider=cheap-gpus
            from=10
            step=13
            committed=ab12
            toProvider=0.020000000000000000
            toVerifier=1.0000000000000000e-15
            tolerance=0.00010000000000000000
            """
                .replace("\n", System.lineSeparator()));
  }
}
