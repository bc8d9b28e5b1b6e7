package io.gpupool.operator.billing;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Billing settings, {@code gpupool.billing.*} properties or the {@code GPUPOOL_BILLING_*}
 * environment variables the Helm chart writes. Billing (settlement and the budget gate) is off by
 * default so the operator runs without a chain; usage is metered either way.
 */
@ApplicationScoped
public class BillingSettings {

  /** Settle on chain and gate jobs on their payer's escrow. */
  @ConfigProperty(name = "gpupool.billing.enabled", defaultValue = "false")
  boolean enabled;

  /** JSON-RPC endpoint of the chain. */
  @ConfigProperty(name = "gpupool.billing.rpc-url")
  Optional<String> rpcUrl;

  /** Address of the deployed GpuPoolBilling contract. */
  @ConfigProperty(name = "gpupool.billing.contract-address")
  Optional<String> contractAddress;

  /** EIP-155 chain id (31337 = anvil). */
  @ConfigProperty(name = "gpupool.billing.chain-id", defaultValue = "31337")
  long chainId;

  /** Time between settlement rounds; also the window a payer's escrow must cover to start a job. */
  @ConfigProperty(name = "gpupool.billing.settlement-interval", defaultValue = "60s")
  Duration settlementInterval;

  /** Most (job, provider) pairs in one settlement transaction. */
  @ConfigProperty(name = "gpupool.billing.batch-size", defaultValue = "100")
  int batchSize;

  /** Time between meterings of running pods (ended and deleted pods are metered at once). */
  @ConfigProperty(name = "gpupool.billing.metering-interval", defaultValue = "30s")
  Duration meteringInterval;

  /** Namespace of the usage ConfigMaps; default: the operator's own (see {@link #namespace}). */
  @ConfigProperty(name = "gpupool.billing.namespace")
  Optional<String> namespace;

  /** How long a payer's escrow may stay dry before its running jobs must be suspended. */
  @ConfigProperty(name = "gpupool.billing.suspend-grace", defaultValue = "10m")
  Duration suspendGrace;

  /** First block start-up reconciliation reads contract events from (the deployment block). */
  @ConfigProperty(name = "gpupool.billing.reconcile-from-block", defaultValue = "0")
  long reconcileFromBlock;

  /** Depth a settlement's block must reach before it counts (1 = mined; the chain's finality). */
  @ConfigProperty(name = "gpupool.billing.confirmations", defaultValue = "1")
  int confirmations;

  /** How often settled cursors are checked against the chain, to undo a deep reorganisation. */
  @ConfigProperty(name = "gpupool.billing.recheck-interval", defaultValue = "10m")
  Duration recheckInterval;

  public int confirmations() {
    return confirmations;
  }

  public Duration recheckInterval() {
    return recheckInterval;
  }

  /** Symbol of the chain's native token, shown beside amounts (the COST column). */
  @ConfigProperty(name = "gpupool.billing.token-symbol", defaultValue = "ETH")
  String tokenSymbol;

  public String tokenSymbol() {
    return tokenSymbol;
  }

  public boolean enabled() {
    return enabled;
  }

  public Optional<String> rpcUrl() {
    return rpcUrl;
  }

  public Optional<String> contractAddress() {
    return contractAddress;
  }

  public long chainId() {
    return chainId;
  }

  public Duration settlementInterval() {
    return settlementInterval;
  }

  public int batchSize() {
    return batchSize;
  }

  public Duration meteringInterval() {
    return meteringInterval;
  }

  /**
   * The namespace usage ConfigMaps live in: the setting, else {@code POD_NAMESPACE}, else the
   * client's namespace ({@code clientNamespace}: in a pod, its service account's), else {@code
   * default}.
   */
  public String namespace(String clientNamespace) {
    return namespace
        .filter(s -> !s.isBlank())
        .or(() -> Optional.ofNullable(System.getenv("POD_NAMESPACE")).filter(s -> !s.isBlank()))
        .or(() -> Optional.ofNullable(clientNamespace).filter(s -> !s.isBlank()))
        .orElse("default");
  }

  public Duration suspendGrace() {
    return suspendGrace;
  }

  public long reconcileFromBlock() {
    return reconcileFromBlock;
  }
}
