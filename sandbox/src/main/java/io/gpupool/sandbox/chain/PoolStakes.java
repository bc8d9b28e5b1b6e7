package io.gpupool.sandbox.chain;

import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.devchain.DevAccounts;
import io.gpupool.sandbox.pool.PoolSpec;
import java.math.BigInteger;
import java.util.Optional;
import org.web3j.crypto.Credentials;

/**
 * What the pool file says each provider stakes, and which providers have a key at hand (an anvil
 * dev account) to register and stake with themselves. Pure: no chain.
 */
public final class PoolStakes {

  /**
   * What the stake gate wants per GPU, and what each provider with a dev-account key stakes per GPU
   * it offers unless its pool entry says otherwise ({@link #stakePerGpu}).
   */
  public static final BigInteger STAKE_PER_GPU_WEI = TokenUnits.toWei("1");

  private PoolStakes() {}

  /**
   * What {@code provider} stakes per GPU: its pool entry's {@code stakePerGpu}, else what the gate
   * wants ({@link #STAKE_PER_GPU_WEI}). Staking more than the gate leaves room for a slash: the
   * default pool's dishonest provider stakes 2 per GPU, so that after one slash (half its stake)
   * its genuine RTX 4090 node still passes the gate and keeps serving the spot-check demo.
   */
  public static BigInteger stakePerGpu(PoolSpec.Provider provider) {
    return provider.stakePerGpu() == null
        ? STAKE_PER_GPU_WEI
        : TokenUnits.toWei(provider.stakePerGpu());
  }

  /** What {@code provider} stakes in all: {@link #stakePerGpu} for every GPU of its nodes. */
  public static BigInteger stakeOf(PoolSpec pool, PoolSpec.Provider provider) {
    return stakePerGpu(provider).multiply(BigInteger.valueOf(gpusOf(pool, provider.name())));
  }

  /** GPUs the pool's nodes give {@code provider}. */
  static int gpusOf(PoolSpec pool, String provider) {
    int gpus = 0;
    for (PoolSpec.NodeGroup g : pool.nodeGroups()) {
      if (provider.equals(g.provider()) && g.gpu() != null) {
        gpus += g.count() * g.gpu().count();
      }
    }
    return gpus;
  }

  /** The dev account (0..19) with this address, if it is one. */
  static Optional<Credentials> devAccount(String address) {
    if (address == null) {
      return Optional.empty();
    }
    for (int i = 0; i < SandboxAnvil.DEV_ACCOUNTS; i++) {
      Credentials c = DevAccounts.account(i);
      if (c.getAddress().equalsIgnoreCase(address)) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }
}
