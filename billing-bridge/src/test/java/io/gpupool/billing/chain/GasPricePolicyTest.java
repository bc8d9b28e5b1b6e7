package io.gpupool.billing.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class GasPricePolicyTest {
  static final BigInteger GWEI = BigInteger.valueOf(1_000_000_000L);
  final GasPricePolicy policy =
      new GasPricePolicy(GWEI, GWEI.multiply(BigInteger.valueOf(50)), 125, 10);

  @Test
  void scalesTheNodeSuggestionWithinBounds() {
    assertThat(policy.price(GWEI.multiply(BigInteger.TEN), 0))
        .isEqualTo(BigInteger.valueOf(12_500_000_000L));
    assertThat(policy.price(BigInteger.ONE, 0)).isEqualTo(GWEI);
    assertThat(policy.price(GWEI.multiply(BigInteger.valueOf(1000)), 0))
        .isEqualTo(GWEI.multiply(BigInteger.valueOf(50)));
  }

  @Test
  void retriesBumpThePriceButNeverPastTheCap() {
    BigInteger first = policy.price(GWEI.multiply(BigInteger.TEN), 0);
    BigInteger second = policy.price(GWEI.multiply(BigInteger.TEN), 1);
    assertThat(second).isEqualTo(BigInteger.valueOf(13_750_000_000L)).isGreaterThan(first);
    assertThat(policy.price(GWEI.multiply(BigInteger.TEN), 40))
        .isEqualTo(GWEI.multiply(BigInteger.valueOf(50)));
  }

  @Test
  void rejectsInvertedBounds() {
    assertThatThrownBy(() -> new GasPricePolicy(GWEI, BigInteger.ONE, 100, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
