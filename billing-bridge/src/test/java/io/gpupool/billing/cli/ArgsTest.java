package io.gpupool.billing.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.billing.TokenUnits;
import java.math.BigInteger;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The command line of {@code ./gpupool chain}, read without a chain: every bad word is a usage
 * error.
 */
class ArgsTest {
  @Test
  void positionalWordsAndOptionsAreSeparated() {
    Args a = Args.parse(new String[] {"payer", "--rpc", "http://x", "deposit", "1.5"});
    assertThat(a.positional(0, "role")).isEqualTo("payer");
    assertThat(a.positional(2, "AMOUNT")).isEqualTo("1.5");
    assertThat(a.option("rpc")).isEqualTo("http://x");
    assertThat(a.positionalOrNull(3)).isNull();
    assertThatThrownBy(() -> a.positional(3, "PERIOD"))
        .isInstanceOf(UsageException.class)
        .hasMessage("missing PERIOD");
    assertThatThrownBy(() -> a.required("thaw")).hasMessage("--thaw is required");
    assertThatThrownBy(() -> Args.parse(new String[] {"status", "--rpc"}))
        .isInstanceOf(UsageException.class)
        .hasMessage("--rpc needs a value");
  }

  @Test
  void amountsAreTokensOrWei() {
    assertThat(Args.amount("1.5")).isEqualTo(TokenUnits.toWei("1.5"));
    assertThat(Args.amount("42wei")).isEqualTo(BigInteger.valueOf(42));
    assertThatThrownBy(() -> Args.amount("-1wei")).isInstanceOf(UsageException.class);
    assertThatThrownBy(() -> Args.amount("lots")).isInstanceOf(UsageException.class);
  }

  @Test
  void durationsTakeOneUnit() {
    assertThat(Args.duration("90s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(Args.duration("12h")).isEqualTo(Duration.ofHours(12));
    assertThat(Args.duration("7d")).isEqualTo(Duration.ofDays(7));
    assertThatThrownBy(() -> Args.duration("1h30m")).isInstanceOf(UsageException.class);
  }

  @Test
  void sharesAreBasisPointsWithAtMostTwoDecimals() {
    assertThat(Args.basisPoints("50")).isEqualTo(5_000);
    assertThat(Args.basisPoints("12.5%")).isEqualTo(1_250);
    assertThat(Args.basisPoints("100")).isEqualTo(10_000);
    assertThatThrownBy(() -> Args.basisPoints("100.01")).isInstanceOf(UsageException.class);
    assertThatThrownBy(() -> Args.basisPoints("0.001")).isInstanceOf(UsageException.class);
    assertThatThrownBy(() -> Args.basisPoints("half")).isInstanceOf(UsageException.class);
  }

  @Test
  void addressesAreChecked() {
    Args a =
        Args.parse(
            new String[] {"owner", "x", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x1"});
    assertThat(a.address(2).getValue())
        .isEqualToIgnoringCase("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    assertThatThrownBy(() -> a.address(3)).hasMessage("not an address: 0x1");
  }
}
