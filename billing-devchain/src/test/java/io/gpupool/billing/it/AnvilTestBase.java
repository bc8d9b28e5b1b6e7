package io.gpupool.billing.it;

import io.gpupool.billing.chain.ChainConfig;
import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.devchain.AnvilImpersonation;
import io.gpupool.billing.devchain.BillingDeployer;
import io.gpupool.billing.devchain.DevChain;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.core.Request;
import org.web3j.protocol.core.Response;
import org.web3j.protocol.http.HttpService;

/** One anvil per test class; a freshly deployed contract per test. */
abstract class AnvilTestBase {
  static final BigInteger GWEI = BigInteger.valueOf(1_000_000_000L);
  static final BigInteger ETH = GWEI.multiply(GWEI);
  static final Duration THAW = Duration.ofHours(1);

  static DevChain dev;
  static HttpService http;
  String contract;
  final List<AutoCloseable> closeAfter = new ArrayList<>();

  @BeforeAll
  static void startChain() {
    dev = DevChain.start(THAW, 2, BigInteger.ZERO);
    http = new HttpService(dev.anvil().rpcUrl());
  }

  @AfterAll
  static void stopChain() {
    if (dev != null) {
      dev.close();
    }
  }

  @BeforeEach
  void deployFreshContract() {
    contract = deployer().deploy(dev.owner(), THAW);
    String reporter = dev.reporter().getAddress();
    deployer().authoriseReporter(contract, dev.owner(), reporter);
    for (Credentials payer : dev.payers()) {
      deployer()
          .setSpendingLimit(
              contract, payer, reporter, AnvilImpersonation.UNLIMITED, Duration.ofDays(1));
    }
    for (int i = 0; i < 4; i++) {
      deployer().registerProvider(contract, dev.provider(i), providerAddress(i));
    }
    rpc("evm_setAutomine", true);
  }

  @AfterEach
  void closeResources() throws Exception {
    for (AutoCloseable c : closeAfter) {
      c.close();
    }
    rpc("evm_setAutomine", true);
  }

  BillingDeployer deployer() {
    return dev.deployer();
  }

  Credentials payer(int i) {
    return dev.payers().get(i);
  }

  String payerAddress(int i) {
    return payer(i).getAddress();
  }

  String providerAddress(int i) {
    return dev.provider(i).getAddress();
  }

  void fund(int payerIdx, BigInteger wei) {
    deployer().depositFor(contract, payer(payerIdx), payerAddress(payerIdx), wei);
  }

  ChainConfig config() {
    return ChainConfig.of(dev.anvil().rpcUrl(), contract, dev.chainId());
  }

  Web3jBillingChain reporterChain() {
    Web3jBillingChain c = new Web3jBillingChain(config(), dev.reporter());
    closeAfter.add(c);
    return c;
  }

  static Response<?> rpc(String method, Object... params) {
    try {
      Response<?> r =
          new Request<>(method, Arrays.asList(params), http, GenericResponse.class).send();
      if (r.hasError()) {
        throw new IllegalStateException(method + ": " + r.getError().getMessage());
      }
      return r;
    } catch (java.io.IOException e) {
      throw new IllegalStateException(method, e);
    }
  }

  /** Response with an untyped result. */
  public static class GenericResponse extends Response<Object> {}
}
