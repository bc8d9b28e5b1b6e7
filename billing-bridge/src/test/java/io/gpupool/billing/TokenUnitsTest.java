package io.gpupool.billing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class TokenUnitsTest {
  @Test
  void convertsExactlyBothWays() {
    assertThat(TokenUnits.toWei("0.5")).isEqualTo(new BigInteger("500000000000000000"));
    assertThat(TokenUnits.toWei("2")).isEqualTo(new BigInteger("2000000000000000000"));
    assertThat(TokenUnits.toWei("0.000000000000000001")).isEqualTo(BigInteger.ONE);
    assertThat(TokenUnits.fromWei(new BigInteger("1234500000000000000")).toPlainString())
        .isEqualTo("1.2345");
    assertThat(TokenUnits.fromWei(new BigInteger("3000000000000000000")).toPlainString())
        .isEqualTo("3");
    assertThat(TokenUnits.fromWei(BigInteger.ZERO)).isEqualByComparingTo(BigDecimal.ZERO);
  }

  @Test
  void rejectsWhatCannotBeExact() {
    assertThatThrownBy(() -> TokenUnits.toWei("0.0000000000000000001"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TokenUnits.toWei("-1")).isInstanceOf(IllegalArgumentException.class);
  }
}
