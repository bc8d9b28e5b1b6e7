package io.gpupool.billing.chain;

import java.time.Duration;
import java.util.Objects;

/**
 * Where and how to talk to the chain.
 *
 * @param rpcUrl JSON-RPC endpoint (http)
 * @param contractAddress the GpuPoolBilling contract
 * @param chainId chain id used to sign (EIP-155) and in voucher domains
 * @param gasPolicy gas price policy
 * @param gasLimitPercent gas limit as a percentage of {@code eth_estimateGas} (e.g. 130)
 * @param rpcTimeout connect/read timeout of one RPC call
 * @param logChunkBlocks block range of one {@code eth_getLogs} call during reconciliation
 */
public record ChainConfig(
    String rpcUrl,
    String contractAddress,
    long chainId,
    GasPricePolicy gasPolicy,
    int gasLimitPercent,
    Duration rpcTimeout,
    long logChunkBlocks) {

  public ChainConfig {
    Objects.requireNonNull(rpcUrl, "rpcUrl");
    Objects.requireNonNull(contractAddress, "contractAddress");
    Objects.requireNonNull(gasPolicy, "gasPolicy");
    Objects.requireNonNull(rpcTimeout, "rpcTimeout");
    if (gasLimitPercent < 100) {
      throw new IllegalArgumentException("gasLimitPercent must be >= 100");
    }
    if (logChunkBlocks < 1) {
      throw new IllegalArgumentException("logChunkBlocks must be >= 1");
    }
  }

  /** Defaults: gas policy defaults, 130% gas limit, 10 s RPC timeout, 5,000-block log chunks. */
  public static ChainConfig of(String rpcUrl, String contractAddress, long chainId) {
    return new ChainConfig(
        rpcUrl,
        contractAddress,
        chainId,
        GasPricePolicy.defaults(),
        130,
        Duration.ofSeconds(10),
        5_000);
  }
}
