package io.gpupool.billing.chain;

import io.gpupool.billing.SettlementItem;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.web3j.abi.TypeEncoder;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Bytes16;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Uint128;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.crypto.Sign;
import org.web3j.utils.Numeric;

/**
 * EIP-712 cumulative vouchers: the reporter signs {@code Voucher(payer, jobId, provider,
 * cumulative)} so that a provider can settle its own pair with {@code settleWithVoucher}.
 */
public final class VoucherSigner {

  private static final byte[] DOMAIN_TYPEHASH =
      Hash.sha3(
          "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
              .getBytes(StandardCharsets.UTF_8));
  private static final byte[] VOUCHER_TYPEHASH =
      Hash.sha3(
          "Voucher(address payer,bytes16 jobId,address provider,uint128 cumulative)"
              .getBytes(StandardCharsets.UTF_8));

  private VoucherSigner() {}

  /** The EIP-712 digest the contract's {@code voucherDigest} computes. */
  public static byte[] digest(long chainId, String contract, SettlementItem voucher) {
    byte[] domain =
        Hash.sha3(
            encode(
                List.of(
                    new Bytes32(DOMAIN_TYPEHASH),
                    new Bytes32(Hash.sha3("GpuPoolBilling".getBytes(StandardCharsets.UTF_8))),
                    new Bytes32(Hash.sha3("2".getBytes(StandardCharsets.UTF_8))),
                    new Uint256(BigInteger.valueOf(chainId)),
                    new Address(contract))));
    byte[] struct =
        Hash.sha3(
            encode(
                List.of(
                    new Bytes32(VOUCHER_TYPEHASH),
                    new Address(voucher.pair().payer()),
                    new Bytes16(voucher.pair().jobIdHash()),
                    new Address(voucher.pair().provider()),
                    new Uint128(voucher.cumulativeWei()))));
    byte[] message = new byte[66];
    message[0] = 0x19;
    message[1] = 0x01;
    System.arraycopy(domain, 0, message, 2, 32);
    System.arraycopy(struct, 0, message, 34, 32);
    return Hash.sha3(message);
  }

  /** 65-byte signature r || s || v (v = 27 or 28). */
  public static byte[] sign(
      Credentials reporter, long chainId, String contract, SettlementItem voucher) {
    Sign.SignatureData sig =
        Sign.signMessage(digest(chainId, contract, voucher), reporter.getEcKeyPair(), false);
    byte[] out = new byte[65];
    System.arraycopy(sig.getR(), 0, out, 0, 32);
    System.arraycopy(sig.getS(), 0, out, 32, 32);
    out[64] = sig.getV()[0];
    return out;
  }

  private static byte[] encode(List<Type> values) {
    StringBuilder hex = new StringBuilder();
    for (Type v : values) {
      hex.append(TypeEncoder.encode(v));
    }
    return Numeric.hexStringToByteArray(hex.toString());
  }
}
