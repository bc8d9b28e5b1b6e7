package io.gpupool.billing.chain;

import static io.gpupool.billing.chain.ContractView.Out.ADDRESS;
import static io.gpupool.billing.chain.ContractView.Out.BOOL;
import static io.gpupool.billing.chain.ContractView.Out.UINT256;
import static io.gpupool.billing.chain.ContractView.Out.UINT64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.billing.chain.ContractView.Answer;
import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Bool;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.abi.datatypes.generated.Uint64;

class ContractViewTest {
  static final String CONTRACT = "0x" + "c0".repeat(20);

  /** What a node answers: the ABI encoding of the values, as a 0x hex string. */
  static String answer(Type<?>... values) {
    return "0x" + FunctionEncoder.encodeConstructor(List.of(values));
  }

  @Test
  void eachOutputComesBackAsItsJavaType() {
    Function f =
        ContractView.function("disputeOf", List.of(), UINT256, UINT256, ADDRESS, UINT64, BOOL);
    BigInteger big = BigInteger.TWO.pow(200).add(BigInteger.valueOf(7));
    String whistleblower = "0x00000000000000000000000000000000000000AB";
    Answer a =
        ContractView.decode(
            f,
            answer(
                new Uint256(big),
                new Uint256(5),
                new Address(whistleblower),
                new Uint64(1_796_000_000L),
                new Bool(true)),
            CONTRACT);
    assertThat(a.uint(0)).isEqualTo(big);
    assertThat(a.uint(1)).isEqualTo(5);
    assertThat(a.address(2)).isEqualTo(whistleblower.toLowerCase());
    assertThat(a.uint64(3)).isEqualTo(1_796_000_000L);
    assertThat(a.bool(4)).isTrue();
  }

  @Test
  void anEmptyAnswerNamesTheAddressInsteadOfReturningNothing() {
    Function f = ContractView.function("pairState", List.of(), UINT256, UINT256);
    assertThatThrownBy(() -> ContractView.decode(f, "0x", CONTRACT))
        .isInstanceOf(ChainException.class)
        .hasMessageContaining("pairState returned no data")
        .hasMessageContaining(CONTRACT);
  }

  @Test
  void readingAValueAsTheWrongTypeIsRefusedWithItsPosition() {
    Function f = ContractView.function("isRegisteredProvider", List.of(), BOOL);
    Answer a = ContractView.decode(f, answer(new Bool(false)), CONTRACT);
    assertThat(a.bool(0)).isFalse();
    assertThatThrownBy(() -> a.uint(0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("isRegisteredProvider output 0 is bool");
  }

  @Test
  void aUint64BeyondALongIsRefusedNotTruncated() {
    Function f = ContractView.function("challengeWindow", List.of(), UINT256);
    Answer a = ContractView.decode(f, answer(new Uint256(BigInteger.TWO.pow(64))), CONTRACT);
    assertThatThrownBy(() -> a.uint64(0)).isInstanceOf(ArithmeticException.class);
  }
}
