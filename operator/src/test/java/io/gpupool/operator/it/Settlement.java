package io.gpupool.operator.it;

import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.devchain.DevChain;
import io.gpupool.operator.billing.BillingService;
import java.time.Duration;

/**
 * The operator's billing settling on an anvil dev chain, as the chain ITs run it: a settlement
 * every 500 ms, the outbox read from the contract's deploy block. Closing it stops settling and
 * closes the chain client, so the next test starts from billing off.
 */
final class Settlement implements AutoCloseable {
  private final BillingService billing;
  private final Web3jBillingChain chain;

  private Settlement(BillingService billing, Web3jBillingChain chain) {
    this.billing = billing;
    this.chain = chain;
  }

  /** Starts settling {@code billing}'s usage on {@code dev}, signed by its reporter. */
  static Settlement on(DevChain dev, BillingService billing) {
    Web3jBillingChain chain = new Web3jBillingChain(dev.chainConfig(), dev.reporter());
    billing.enableSettlement(
        chain,
        billing
            .settlementConfig()
            .withInterval(Duration.ofMillis(500))
            .withReconcileFromBlock(dev.deployBlock()));
    return new Settlement(billing, chain);
  }

  Web3jBillingChain chain() {
    return chain;
  }

  @Override
  public void close() {
    billing.disableSettlement();
    chain.close();
  }
}
