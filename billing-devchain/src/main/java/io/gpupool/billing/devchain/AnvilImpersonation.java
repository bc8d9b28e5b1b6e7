package io.gpupool.billing.devchain;

import io.gpupool.billing.contract.GpuPoolBilling;
import java.io.IOException;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.generated.Uint32;
import org.web3j.abi.datatypes.generated.Uint96;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.Request;
import org.web3j.protocol.core.Response;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.http.HttpService;

/**
 * On anvil only: the payer and provider calls of addresses whose keys a test or the sandbox does
 * not hold (payers named in a job spec, random benchmark addresses). anvil lets any address send
 * once impersonated; a real chain needs the address's own key ({@code ./gpupool chain}).
 */
public final class AnvilImpersonation {

  /** Largest spending limit the contract stores (uint96): "unlimited" for a dev chain. */
  public static final BigInteger UNLIMITED = BigInteger.ONE.shiftLeft(96).subtract(BigInteger.ONE);

  private static final BigInteger GAS_MONEY = BigInteger.TEN.pow(17);

  private final HttpService rpc;
  private final Web3j web3j;
  private final String contract;

  public AnvilImpersonation(String rpcUrl, String contract) {
    this.rpc = new HttpService(rpcUrl);
    this.web3j = Web3j.build(rpc);
    this.contract = contract;
  }

  /** {@code payer} lets {@code reporter} charge it without limit, per day. */
  public void grantUnlimited(String payer, String reporter) {
    send(
        payer,
        new Function(
            GpuPoolBilling.FUNC_SETSPENDINGLIMIT,
            List.of(
                new Address(reporter),
                new Uint96(UNLIMITED),
                new Uint32(Duration.ofDays(1).toSeconds())),
            List.of()));
  }

  /** {@code provider} registers itself, withdrawals going to its own address. */
  public void registerProvider(String provider) {
    send(
        provider,
        new Function(
            GpuPoolBilling.FUNC_REGISTERPROVIDER, List.of(new Address(provider)), List.of()));
  }

  private void send(String from, Function call) {
    try {
      BigInteger balance =
          web3j.ethGetBalance(from, DefaultBlockParameterName.LATEST).send().getBalance();
      if (balance.compareTo(GAS_MONEY) < 0) {
        raw("anvil_setBalance", from, "0x" + GAS_MONEY.add(balance).toString(16));
      }
      raw("anvil_impersonateAccount", from);
      try {
        String hash =
            web3j
                .ethSendTransaction(
                    Transaction.createFunctionCallTransaction(
                        from,
                        null,
                        null,
                        BigInteger.valueOf(300_000),
                        contract,
                        FunctionEncoder.encode(call)))
                .send()
                .getTransactionHash();
        TransactionReceipt receipt = waitForReceipt(hash);
        if (!receipt.isStatusOK()) {
          throw new IllegalStateException(call.getName() + " as " + from + " reverted: " + hash);
        }
      } finally {
        raw("anvil_stopImpersonatingAccount", from);
      }
    } catch (IOException e) {
      throw new IllegalStateException(call.getName() + " as " + from + ": " + e.getMessage(), e);
    }
  }

  private TransactionReceipt waitForReceipt(String hash) throws IOException {
    if (hash == null) {
      throw new IllegalStateException("anvil refused the impersonated transaction");
    }
    for (int i = 0; i < 200; i++) {
      var r = web3j.ethGetTransactionReceipt(hash).send().getTransactionReceipt();
      if (r.isPresent()) {
        return r.get();
      }
      try {
        Thread.sleep(25);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
    throw new IllegalStateException("no receipt for " + hash + " (is anvil mining?)");
  }

  private void raw(String method, Object... params) throws IOException {
    Response<?> r = new Request<>(method, List.of(params), rpc, Untyped.class).send();
    if (r.hasError()) {
      throw new IllegalStateException(method + ": " + r.getError().getMessage());
    }
  }

  /** A response whose result is not needed. */
  public static final class Untyped extends Response<Object> {}
}
