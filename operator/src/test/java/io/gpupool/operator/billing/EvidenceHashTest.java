package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EvidenceHashTest {

  @Test
  void sha256OfTextIsTheKnownDigest() {
    assertThat(EvidenceHash.sha256("abc").hex())
        .isEqualTo("0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assertThat(EvidenceHash.sha256("abc").bytes()).hasSize(32);
  }

  @Test
  void upperCaseHexIsNormalisedAndWrongLengthsAreRefused() {
    assertThat(new EvidenceHash("0x" + "AB".repeat(32)).hex()).isEqualTo("0x" + "ab".repeat(32));
    assertThatThrownBy(() -> new EvidenceHash("0x" + "ab".repeat(31)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("32 bytes");
    assertThatThrownBy(() -> new EvidenceHash("ab".repeat(32)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anOpenedFilingNeedsATransaction() {
    assertThatThrownBy(
            () -> DisputeFiling.notOpened(DisputeFiling.Outcome.OPENED, "opened without a tx"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(DisputeFiling.notOpened(DisputeFiling.Outcome.BILLING_OFF, "off").frozenWei())
        .isZero();
  }
}
