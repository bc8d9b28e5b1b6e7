package io.gpupool.billing.chain;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Utf8String;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.abi.datatypes.generated.Uint64;

class RevertDecoderTest {
  final RevertDecoder decoder = RevertDecoder.forGpuPoolBilling();
  static final String PAYER = "0x00000000000000000000000000000000000000a1";

  @Test
  void knowsEveryCustomErrorOfTheContract() {
    assertThat(decoder.knownErrors().values())
        .contains(
            "NotOwner",
            "NotReporter",
            "ZeroAddress",
            "ZeroAmount",
            "PartyIndexOutOfRange",
            "AmountTooLarge",
            "NoThawInProgress",
            "StillThawing",
            "NothingToWithdraw",
            "TransferFailed",
            "InvalidSignature",
            "Reentrancy",
            "Error",
            "Panic");
    assertThat(decoder.knownErrors())
        .containsEntry(RevertDecoder.selector("NotReporter(address)"), "NotReporter");
  }

  @Test
  void decodesABareSelectorFromANodeMessage() {
    String sel = RevertDecoder.selector("InvalidSignature()");
    DecodedError e = decoder.decode("execution reverted: custom error " + sel + ": ");
    assertThat(e.name()).isEqualTo("InvalidSignature");
    assertThat(e.selector()).isEqualTo(sel);
  }

  @Test
  void decodesArgumentsOfEncodedRevertData() {
    String data =
        RevertDecoder.selector("StillThawing(address,uint64)")
            + FunctionEncoder.encodeConstructor(
                List.of(new Address(PAYER), new Uint64(BigInteger.valueOf(1_700_000_000L))));
    DecodedError e = decoder.decode(data);
    assertThat(e.toString()).isEqualTo("StillThawing(" + PAYER + ", 1700000000)");
  }

  @Test
  void decodesRequireMessagesAndPanics() {
    String err = "0x08c379a0" + FunctionEncoder.encodeConstructor(List.of(new Utf8String("nope")));
    assertThat(decoder.decode(err).toString()).isEqualTo("Error(nope)");
    String panic = "0x4e487b71" + FunctionEncoder.encodeConstructor(List.of(new Uint256(0x11)));
    assertThat(decoder.decode(panic).toString()).isEqualTo("Panic(17)");
  }

  @Test
  void unknownDataIsReportedAsIs() {
    DecodedError e = decoder.decode("execution reverted 0xdeadbeef");
    assertThat(e.name()).isEqualTo("Unknown");
    assertThat(e.args()).containsExactly("execution reverted 0xdeadbeef");
    assertThat(decoder.decode(null).name()).isEqualTo("Unknown");
  }
}
