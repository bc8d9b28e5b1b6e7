package io.gpupool.billing.chain;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.contract.GpuPoolBilling;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Bool;
import org.web3j.abi.datatypes.DynamicArray;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Bytes16;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.utils.Numeric;

/** The contract's write calls, ABI-encoded: pure, so they are checked without a node. */
public final class ContractCalls {

  private ContractCalls() {}

  /**
   * ABI-encode {@code settleBatch} for the items: parties deduplicated and sorted by address;
   * entries ordered by payer (contract version 6 reads and writes a payer's escrow once per run of
   * its consecutive entries, so one run per payer is the cheapest batch); each entry packs job id
   * (bits 128..255), payer index (112..127), provider index (96..111) and cumulative wei (0..95).
   */
  public static String encodeSettleBatch(List<SettlementItem> batch) {
    List<SettlementItem> items =
        batch.stream().sorted(java.util.Comparator.comparing(SettlementItem::pair)).toList();
    java.util.SortedMap<BigInteger, String> sorted = new java.util.TreeMap<>();
    for (SettlementItem item : items) {
      sorted.put(Numeric.toBigInt(item.pair().payer()), item.pair().payer());
      sorted.put(Numeric.toBigInt(item.pair().provider()), item.pair().provider());
    }
    if (sorted.size() > 0xFFFF) {
      throw new IllegalArgumentException("a batch may name at most 65,535 addresses");
    }
    Map<BigInteger, Integer> index = new LinkedHashMap<>();
    for (BigInteger address : sorted.keySet()) {
      index.put(address, index.size());
    }
    List<Uint256> entries = new ArrayList<>(items.size());
    for (SettlementItem item : items) {
      if (item.cumulativeWei().bitLength() > 96) {
        throw new IllegalArgumentException(
            "cumulative amount of " + item.pair() + " does not fit the contract's 96-bit field");
      }
      int payer = index.get(Numeric.toBigInt(item.pair().payer()));
      int provider = index.get(Numeric.toBigInt(item.pair().provider()));
      entries.add(
          new Uint256(
              new BigInteger(1, item.pair().jobIdHash())
                  .shiftLeft(128)
                  .or(BigInteger.valueOf(payer).shiftLeft(112))
                  .or(BigInteger.valueOf(provider).shiftLeft(96))
                  .or(item.cumulativeWei())));
    }
    List<Address> parties = sorted.values().stream().map(Address::new).toList();
    Function f =
        new Function(
            GpuPoolBilling.FUNC_SETTLEBATCH,
            List.of(
                new DynamicArray<>(Address.class, parties),
                new DynamicArray<>(Uint256.class, entries)),
            List.of());
    return FunctionEncoder.encode(f);
  }

  static Function slashStakeCall(String provider, byte[] evidenceHash, String whistleblower) {
    return new Function(
        GpuPoolBilling.FUNC_SLASHSTAKE,
        List.of(new Address(provider), evidence(evidenceHash), new Address(whistleblower)),
        List.of());
  }

  static Bytes32 evidence(byte[] evidenceHash) {
    if (evidenceHash.length != 32) {
      throw new IllegalArgumentException(
          "an evidence hash is 32 bytes, not " + evidenceHash.length);
    }
    return new Bytes32(evidenceHash);
  }

  static Function expireDisputeCall(PairId pair) {
    return new Function(GpuPoolBilling.FUNC_EXPIREDISPUTE, pairArguments(pair), List.of());
  }

  static Function openDisputeCall(
      PairId pair, BigInteger amountWei, byte[] evidenceHash, String whistleblower) {
    if (evidenceHash.length != 32) {
      throw new IllegalArgumentException(
          "an evidence hash is 32 bytes, not " + evidenceHash.length);
    }
    List<Type> args = new ArrayList<>(pairArguments(pair));
    args.add(new Uint256(amountWei));
    args.add(new Bytes32(evidenceHash));
    args.add(new Address(whistleblower));
    return new Function(GpuPoolBilling.FUNC_OPENDISPUTE, args, List.of());
  }

  static Function resolveDisputeCall(PairId pair, boolean fraud) {
    List<Type> args = new ArrayList<>(pairArguments(pair));
    args.add(new Bool(fraud));
    return new Function(GpuPoolBilling.FUNC_RESOLVEDISPUTE, args, List.of());
  }

  static List<Type> pairArguments(PairId pair) {
    return List.of(
        new Address(pair.payer()), new Bytes16(pair.jobIdHash()), new Address(pair.provider()));
  }
}
