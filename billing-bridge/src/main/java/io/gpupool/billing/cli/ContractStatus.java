package io.gpupool.billing.cli;

import static io.gpupool.billing.chain.ContractView.Out.ADDRESS;
import static io.gpupool.billing.chain.ContractView.Out.BOOL;
import static io.gpupool.billing.chain.ContractView.Out.UINT16;
import static io.gpupool.billing.chain.ContractView.Out.UINT256;
import static io.gpupool.billing.chain.ContractView.Out.UINT64;

import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.chain.ChainConfig;
import io.gpupool.billing.chain.ContractView;
import io.gpupool.billing.chain.ContractView.Answer;
import io.gpupool.billing.chain.ContractView.Out;
import io.gpupool.billing.chain.MaturingEarnings;
import io.gpupool.billing.chain.ProviderEarnings;
import java.io.PrintStream;
import java.math.BigInteger;
import java.util.List;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.crypto.WalletUtils;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthCall;

/** {@code ./gpupool chain status [ADDRESS]}: what the contract's views say, read without a key. */
final class ContractStatus {
  private ContractStatus() {}

  private static ChainConfig config(ChainAccess chain, Web3j web3j) {
    try {
      long chainId = web3j.ethChainId().send().getChainId().longValueExact();
      return ChainConfig.of(chain.orEnv("rpc", "GPUPOOL_CHAIN_RPC"), chain.contract(), chainId);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("RPC failed: " + e.getMessage(), e);
    }
  }

  /** Prints the contract's settings and, with an ADDRESS argument, that address's standing. */
  static void print(Args a, ChainAccess chain, PrintStream out) {
    Web3j web3j = chain.web3j();
    String contract = chain.contract();
    try {
      View v = new View(web3j, contract);
      out.println("contract " + contract);
      out.println("version " + v.read("VERSION", UINT256).uint(0));
      out.println("owner " + v.read("owner", ADDRESS).address(0));
      out.println("pending owner " + v.read("pendingOwner", ADDRESS).address(0));
      out.println("thaw period " + v.read("thawPeriod", UINT64).uint64(0) + " s");
      out.println("admin delay " + v.read("adminDelay", UINT64).uint64(0) + " s");
      out.println(
          "challenge window "
              + v.read("challengeWindow", UINT64).uint64(0)
              + " s, slash "
              + v.read("slashShareBps", UINT16).uint(0)
              + " bps of stake, whistleblower "
              + v.read("whistleblowerShareBps", UINT16).uint(0)
              + " bps of that");
      String who = a.positionalOrNull(1);
      if (who == null) {
        return;
      }
      if (!WalletUtils.isValidAddress(who)) {
        throw new UsageException("not an address: " + who);
      }
      Address w = new Address(who);
      Answer escrow = v.read("escrowOf", List.of(w), UINT256, UINT256, UINT64);
      out.println("escrow " + tokens(escrow.uint(0)) + " (thawing " + tokens(escrow.uint(1)) + ")");
      out.println("reporter " + who + ": " + v.read("isReporter", List.of(w), BOOL).bool(0));
      out.println(
          "provider "
              + who
              + ": registered "
              + v.read("isRegisteredProvider", List.of(w), BOOL).bool(0)
              + ", balance "
              + tokens(v.read("providerBalance", List.of(w), UINT256).uint(0))
              + ", payout "
              + v.read("payoutAddress", List.of(w), ADDRESS).address(0));
      Answer stake = v.read("stakeOf", List.of(w), UINT256, UINT256, UINT64);
      // Contract version 6 keeps earnings in each pair: a scan of the address's Settled events.
      MaturingEarnings earnings = ProviderEarnings.over(config(chain, web3j), web3j).earnings(who);
      out.println(
          "stake "
              + tokens(stake.uint(0))
              + " (unstaking "
              + tokens(stake.uint(1))
              + "), earnings withdrawable after collecting "
              + tokens(earnings.withdrawableWei())
              + ", in the challenge window "
              + tokens(earnings.maturingWei())
              + ", reward "
              + tokens(v.read("rewardBalance", List.of(w), UINT256).uint(0)));
      out.println("verifier " + who + ": " + v.read("isVerifier", List.of(w), BOOL).bool(0));
      String reporter = a.option("reporter");
      if (reporter != null) {
        if (!WalletUtils.isValidAddress(reporter)) {
          throw new UsageException("--reporter is not an address: " + reporter);
        }
        Answer l =
            v.read(
                "spendingLimit",
                List.of(w, new Address(reporter)),
                UINT256,
                UINT256,
                UINT256,
                UINT256,
                UINT256);
        out.println(
            "limit for "
                + reporter
                + ": "
                + tokens(l.uint(0))
                + " per "
                + l.uint(1)
                + " s, spent "
                + tokens(l.uint(2))
                + ", available now "
                + tokens(l.uint(4)));
      }
    } finally {
      web3j.shutdown();
    }
  }

  /** The contract's views, each answer decoded by {@link ContractView} against its types. */
  private record View(Web3j web3j, String contract) {
    Answer read(String name, Out... outputs) {
      return read(name, List.of(), outputs);
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    Answer read(String name, List<? extends Type> args, Out... outputs) {
      Function f = ContractView.function(name, (List) args, outputs);
      EthCall r;
      try {
        r =
            web3j
                .ethCall(
                    Transaction.createEthCallTransaction(null, contract, FunctionEncoder.encode(f)),
                    DefaultBlockParameterName.LATEST)
                .send();
      } catch (java.io.IOException e) {
        throw new IllegalStateException("RPC failed: " + e.getMessage(), e);
      }
      if (r.hasError() || r.isReverted()) {
        throw new IllegalStateException(
            name + " failed: is " + contract + " a GpuPoolBilling contract?");
      }
      return ContractView.decode(f, r.getValue(), contract);
    }
  }

  private static String tokens(BigInteger wei) {
    return TokenUnits.fromWei(wei).toPlainString() + " (" + wei + " wei)";
  }
}
