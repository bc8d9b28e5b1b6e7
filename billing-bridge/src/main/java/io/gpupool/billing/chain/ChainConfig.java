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

  /**
   * Without the RPC URL's path, query and user info: RPC providers put the API key there, and this
   * string may reach logs.
   */
  @Override
  public String toString() {
    return "ChainConfig[rpc="
        + redactedRpcUrl()
        + ", contractAddress="
        + contractAddress
        + ", chainId="
        + chainId
        + ", gasPolicy="
        + gasPolicy
        + ", gasLimitPercent="
        + gasLimitPercent
        + ", rpcTimeout="
        + rpcTimeout
        + ", logChunkBlocks="
        + logChunkBlocks
        + "]";
  }

  /**
   * {@code text} with every secret part of the RPC URL (user info, password, path segments, query
   * and query values, raw and decoded) replaced by "…": for error messages an endpoint builds from
   * the request (a 404 page naming the path) before they reach a log or an event.
   */
  public String redact(String text) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    String result = text;
    for (String secret : secretParts()) {
      result = result.replace(secret, "…");
    }
    return result;
  }

  /** The URL's parts that may carry a key, longest first so a part never hides in a longer one. */
  private java.util.List<String> secretParts() {
    java.util.Set<String> parts = new java.util.HashSet<>();
    try {
      java.net.URI uri = java.net.URI.create(rpcUrl);
      for (String raw : new String[] {uri.getRawUserInfo(), uri.getUserInfo()}) {
        if (raw != null) {
          parts.add(raw);
          parts.addAll(java.util.List.of(raw.split(":")));
        }
      }
      for (String path : new String[] {uri.getRawPath(), uri.getPath()}) {
        if (path != null && path.length() > 1) {
          parts.add(path);
          parts.addAll(java.util.List.of(path.split("/")));
        }
      }
      for (String query : new String[] {uri.getRawQuery(), uri.getQuery()}) {
        if (query != null) {
          parts.add(query);
          for (String pair : query.split("&")) {
            parts.add(pair);
            int eq = pair.indexOf('=');
            if (eq >= 0) {
              parts.add(pair.substring(eq + 1));
            }
          }
        }
      }
    } catch (IllegalArgumentException e) {
      parts.add(rpcUrl); // unparseable: hide it whole
    }
    // Short parts ("v2", "rpc", "") are path words, not keys, and would garble every message.
    return parts.stream()
        .filter(p -> p.length() >= 8)
        .sorted(java.util.Comparator.comparingInt(String::length).reversed())
        .toList();
  }

  /** Scheme, host and port only ({@code https://rpc.example.com:443/…}). */
  public String redactedRpcUrl() {
    try {
      java.net.URI uri = java.net.URI.create(rpcUrl);
      if (uri.getHost() == null) {
        return "<unparseable URL>";
      }
      String port = uri.getPort() < 0 ? "" : ":" + uri.getPort();
      boolean more =
          (uri.getRawPath() != null && uri.getRawPath().length() > 1)
              || uri.getRawQuery() != null
              || uri.getRawUserInfo() != null;
      return uri.getScheme() + "://" + uri.getHost() + port + (more ? "/…" : "");
    } catch (IllegalArgumentException e) {
      return "<unparseable URL>";
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
