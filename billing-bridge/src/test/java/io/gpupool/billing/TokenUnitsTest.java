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
  void displaysAFixedNumberOfDecimalsAndTheSymbol() {
    // 0.012133333333333333 tokens: what a COST column used to print raw
    assertThat(TokenUnits.display(new BigInteger("12133333333333333"), "ETH"))
        .isEqualTo("0.012133 ETH");
    assertThat(TokenUnits.display(new BigInteger("12133500000000000"), "ETH"))
        .as("half up")
        .isEqualTo("0.012134 ETH");
    assertThat(TokenUnits.display(new BigInteger("3000000000000000000"), "xDAI"))
        .isEqualTo("3.000000 xDAI");
    assertThat(TokenUnits.display(BigInteger.ZERO, "ETH")).isEqualTo("0.000000 ETH");
    assertThat(TokenUnits.display(new BigInteger("400000000000"), "ETH"))
        .as("below the last decimal shown")
        .isEqualTo("0.000000 ETH");
  }

  @Test
  void rejectsWhatCannotBeExact() {
    assertThatThrownBy(() -> TokenUnits.toWei("0.0000000000000000001"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TokenUnits.toWei("-1")).isInstanceOf(IllegalArgumentException.class);
  }
}
