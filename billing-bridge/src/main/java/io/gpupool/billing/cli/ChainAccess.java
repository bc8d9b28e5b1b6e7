package io.gpupool.billing.cli;

import io.gpupool.billing.chain.KeySource;
import io.gpupool.billing.chain.RevertDecoder;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.Map;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.WalletUtils;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthEstimateGas;
import org.web3j.protocol.core.methods.response.EthSendTransaction;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.http.HttpService;
import org.web3j.tx.RawTransactionManager;
import org.web3j.tx.response.PollingTransactionReceiptProcessor;

/**
 * Where one command connects and signs ({@code --rpc}, {@code --contract}, {@code --key-file} or
 * {@code --key-env}, else the {@code GPUPOOL_CHAIN_*} environment) and how it sends a transaction.
 * The key is never printed: errors name only where it came from.
 */
final class ChainAccess {
  private static final BigInteger GAS_PERCENT = BigInteger.valueOf(130);

  private final Args a;
  private final Map<String, String> env;
  private final RevertDecoder decoder = RevertDecoder.forGpuPoolBilling();

  ChainAccess(Args a, Map<String, String> env) {
    this.a = a;
    this.env = env;
  }

  /** A client of {@code --rpc}; the caller shuts it down. */
  Web3j web3j() {
    return Web3j.build(new HttpService(orEnv("rpc", "GPUPOOL_CHAIN_RPC")));
  }

  /** {@code --contract}: the GpuPoolBilling contract's address. */
  String contract() {
    String c = orEnv("contract", "GPUPOOL_CHAIN_CONTRACT");
    if (!WalletUtils.isValidAddress(c)) {
      throw new UsageException("--contract is not an address: " + c);
    }
    return c;
  }

  /** The signing key, from {@code --key-file} or {@code --key-env} (default GPUPOOL_CHAIN_KEY). */
  Credentials key() {
    String file = a.option("key-file");
    if (file != null) {
      return KeySource.fromSecretFile(Path.of(file));
    }
    String var = a.option("key-env") != null ? a.option("key-env") : "GPUPOOL_CHAIN_KEY";
    String value = env.get(var);
    if (value == null || value.isBlank()) {
      throw new UsageException("no key: give --key-file FILE or set " + var);
    }
    return KeySource.parse(value, "environment variable " + var);
  }

  /** The option {@code --option}, else the environment variable {@code var}; required. */
  String orEnv(String option, String var) {
    String v = a.option(option);
    if (v == null) {
      v = env.get(var);
    }
    if (v == null || v.isBlank()) {
      throw new UsageException("--" + option + " is required (or set " + var + ")");
    }
    return v;
  }

  /**
   * Sends a transaction to {@code to} (null: deploys {@code data}) after a dry run, so a call the
   * contract would refuse fails with its decoded reason before any gas is spent; waits until mined.
   */
  TransactionReceipt transact(
      Web3j web3j, Credentials key, String to, String data, BigInteger value) {
    try {
      long chainId = web3j.ethChainId().send().getChainId().longValueExact();
      Transaction call =
          to == null
              ? Transaction.createContractTransaction(
                  key.getAddress(), null, null, null, value, data)
              : Transaction.createFunctionCallTransaction(
                  key.getAddress(), null, null, null, to, value, data);
      EthEstimateGas estimate = web3j.ethEstimateGas(call).send();
      if (estimate.hasError()) {
        Object d = estimate.getError().getData();
        throw new IllegalStateException(
            "the contract refuses: "
                + decoder.decode((d == null ? "" : d + " ") + estimate.getError().getMessage()));
      }
      BigInteger gasLimit =
          estimate.getAmountUsed().multiply(GAS_PERCENT).divide(BigInteger.valueOf(100));
      BigInteger gasPrice =
          web3j
              .ethGasPrice()
              .send()
              .getGasPrice()
              .multiply(BigInteger.valueOf(125))
              .divide(BigInteger.valueOf(100));
      RawTransactionManager tm = new RawTransactionManager(web3j, key, chainId);
      EthSendTransaction sent =
          tm.sendTransaction(gasPrice, gasLimit, to == null ? "" : to, data, value);
      if (sent.hasError()) {
        throw new IllegalStateException(
            "the node refused the transaction: " + sent.getError().getMessage());
      }
      TransactionReceipt r =
          new PollingTransactionReceiptProcessor(web3j, 500, 240)
              .waitForTransactionReceipt(sent.getTransactionHash());
      if (!r.isStatusOK()) {
        throw new IllegalStateException("transaction " + r.getTransactionHash() + " reverted");
      }
      return r;
    } catch (java.io.IOException e) {
      throw new IllegalStateException("RPC failed: " + e.getMessage(), e);
    } catch (org.web3j.protocol.exceptions.TransactionException e) {
      throw new IllegalStateException("no receipt: " + e.getMessage(), e);
    }
  }
}
