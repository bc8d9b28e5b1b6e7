package io.gpupool.billing.chain;

import static io.gpupool.billing.chain.ContractView.Out.UINT256;
import static io.gpupool.billing.chain.ContractView.Out.UINT64;

import io.gpupool.billing.PairId;
import io.gpupool.billing.chain.ContractView.Answer;
import io.gpupool.billing.contract.GpuPoolBilling;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.web3j.abi.EventEncoder;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.DynamicArray;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Bytes16;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.utils.Numeric;

/**
 * A provider's earnings under contract version 6, where what each (payer, job, provider) pair paid
 * stays in the pair until it is collected: the provider's pairs are found from its {@code Settled}
 * events (the provider is an indexed topic), each pair's {@code pairEarnings} says what it holds
 * and what has matured, and {@code collect} moves the matured part into the provider's balance,
 * which {@code withdraw} pays out.
 */
public final class ProviderEarnings {

  private static final String SETTLED_TOPIC = EventEncoder.encode(GpuPoolBilling.SETTLED_EVENT);

  /** One pair of the provider as the chain names it: the payer and the 16-byte job id. */
  public record ProviderPair(String payer, byte[] jobIdHash) {
    String key() {
      return payer + Numeric.toHexString(jobIdHash);
    }
  }

  /**
   * What one pair holds.
   *
   * @param uncollectedWei paid to the provider and still in the pair (neither collected nor
   *     disputed)
   * @param collectableWei of that, what has left the challenge window ({@code collect} moves it)
   * @param nextMaturesAt unix seconds when more matures (0: nothing is waiting)
   */
  public record PairEarnings(
      BigInteger uncollectedWei, BigInteger collectableWei, long nextMaturesAt) {
    /** Still inside the challenge window: what a dispute over the pair may freeze. */
    public BigInteger inWindowWei() {
      return uncollectedWei.subtract(collectableWei);
    }
  }

  private final ChainConfig config;
  private final ChainRpc rpc;

  ProviderEarnings(ChainConfig config, ChainRpc rpc) {
    this.config = config;
    this.rpc = rpc;
  }

  /** Read-only access for tools that hold no key (e.g. {@code ./gpupool chain status}). */
  public static ProviderEarnings over(ChainConfig config, org.web3j.protocol.Web3j web3j) {
    return new ProviderEarnings(
        config, new ChainRpc(config, web3j, RevertDecoder.forGpuPoolBilling()));
  }

  /** Every pair that ever paid {@code provider}, from its {@code Settled} events. */
  public List<ProviderPair> pairsOf(String provider) {
    String providerTopic = Numeric.toHexStringWithPrefixZeroPadded(Numeric.toBigInt(provider), 64);
    Set<String> seen = new LinkedHashSet<>();
    List<ProviderPair> out = new ArrayList<>();
    List<Log> logs =
        rpc.logs(
            0,
            rpc.latestBlock(),
            filter -> {
              filter.addSingleTopic(SETTLED_TOPIC);
              filter.addNullTopic();
              filter.addSingleTopic(providerTopic);
            });
    for (Log log : logs) {
      if (log.getTopics().size() == 4) {
        byte[] job = Numeric.hexStringToByteArray(log.getTopics().get(1));
        String payerTopic = Numeric.cleanHexPrefix(log.getTopics().get(3));
        String payer =
            "0x" + payerTopic.substring(payerTopic.length() - 40).toLowerCase(Locale.ROOT);
        ProviderPair pair = new ProviderPair(payer, java.util.Arrays.copyOf(job, 16));
        if (seen.add(pair.key())) {
          out.add(pair);
        }
      }
    }
    return out;
  }

  /** What the pair ({@code payer}, job {@code jobIdHash}, {@code provider}) holds. */
  public PairEarnings pairEarnings(String payer, byte[] jobIdHash, String provider) {
    Answer a =
        rpc.view(
            GpuPoolBilling.FUNC_PAIREARNINGS,
            List.of(new Address(payer), new Bytes16(jobIdHash), new Address(provider)),
            UINT256,
            UINT256,
            UINT64);
    return new PairEarnings(a.uint(0), a.uint(1), a.uint64(2));
  }

  public PairEarnings pairEarnings(PairId pair) {
    return pairEarnings(pair.payer(), pair.jobIdHash(), pair.provider());
  }

  /** The provider's collected balance ({@code providerBalance}, what {@code withdraw} pays). */
  public BigInteger collectedBalance(String provider) {
    return rpc.view(GpuPoolBilling.FUNC_PROVIDERBALANCE, List.of(new Address(provider)), UINT256)
        .uint(0);
  }

  /**
   * The provider's earnings: withdrawable = its collected balance plus what its pairs would give up
   * to {@code collect} now; maturing = what its pairs hold inside the challenge window.
   */
  public MaturingEarnings earnings(String provider) {
    BigInteger withdrawable = collectedBalance(provider);
    BigInteger maturing = BigInteger.ZERO;
    long next = 0;
    for (ProviderPair p : pairsOf(provider)) {
      PairEarnings e = pairEarnings(p.payer(), p.jobIdHash(), provider);
      withdrawable = withdrawable.add(e.collectableWei());
      maturing = maturing.add(e.inWindowWei());
      if (e.nextMaturesAt() != 0 && (next == 0 || e.nextMaturesAt() < next)) {
        next = e.nextMaturesAt();
      }
    }
    return new MaturingEarnings(withdrawable, maturing, next);
  }

  /**
   * The {@code collect} call for the provider's pairs holding something collectable now, or null
   * when none does.
   */
  public Function collectCall(String provider) {
    List<Address> payers = new ArrayList<>();
    List<Bytes16> jobs = new ArrayList<>();
    for (ProviderPair p : pairsOf(provider)) {
      if (pairEarnings(p.payer(), p.jobIdHash(), provider).collectableWei().signum() > 0) {
        payers.add(new Address(p.payer()));
        jobs.add(new Bytes16(p.jobIdHash()));
      }
    }
    if (payers.isEmpty()) {
      return null;
    }
    List<Type> args =
        List.of(
            new Address(provider),
            new DynamicArray<>(Address.class, payers),
            new DynamicArray<>(Bytes16.class, jobs));
    return new Function(GpuPoolBilling.FUNC_COLLECT, args, List.of());
  }
}
