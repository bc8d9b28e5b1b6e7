package io.gpupool.sandbox.chain;

import java.util.List;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Function;

/**
 * Read-only contract calls spelled out as {@code eth_call} commands a user can paste: the sandbox's
 * chain tools (npm's forge and anvil) come without {@code cast}.
 */
public final class ChainQueries {

  private ChainQueries() {}

  /** ABI call data of {@code escrowOf(address)}. */
  public static String escrowOf(String payer) {
    return encode("escrowOf", payer);
  }

  private static String encode(String function, String address) {
    return FunctionEncoder.encode(new Function(function, List.of(new Address(address)), List.of()));
  }

  /** A curl command running {@code eth_call} of {@code data} on {@code contract}. */
  public static String curl(String rpcUrl, String contract, String data) {
    return "curl -s -H 'Content-Type: application/json' "
        + rpcUrl
        + " -d '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":[{\"to\":\""
        + contract
        + "\",\"data\":\""
        + data
        + "\"},\"latest\"]}'";
  }
}
