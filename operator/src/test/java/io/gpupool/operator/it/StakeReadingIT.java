package io.gpupool.operator.it;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.devchain.DevChain;
import io.gpupool.operator.billing.BillingService;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A provider that appears after the operator read the stakes has its own stake read at once, not a
 * refresh period later: until then the stake gate leaves its nodes out of every placement.
 */
@QuarkusTest
@WithKubernetesTestServer
@TestProfile(StakeReadingIT.SlowRefresh.class)
class StakeReadingIT {
  public static class SlowRefresh implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("gpupool.trust.min-stake-per-gpu", "1", "gpupool.trust.stake-refresh", "10m");
    }
  }

  static DevChain dev;

  @Inject KubernetesClient client;
  @Inject BillingService billing;

  @BeforeAll
  static void startChain() {
    dev = DevChain.start(Duration.ofHours(1), 1, TokenUnits.toWei("10"));
  }

  @AfterAll
  static void stopChain() {
    if (dev != null) {
      dev.close();
    }
  }

  @Test
  void aNewProvidersStakeIsReadWhenItAppears() throws Exception {
    Web3jBillingChain chain = new Web3jBillingChain(dev.chainConfig(), dev.reporter());
    billing.enableSettlement(
        chain, billing.settlementConfig().withReconcileFromBlock(dev.deployBlock()));
    // The reading at start and the one on connecting to the chain are over: nothing to read yet.
    Thread.sleep(2000);
    dev.deployer()
        .stake(
            dev.contractAddress(), dev.provider(1), TokenUnits.toWei("1").multiply(BigInteger.TWO));
    BillingFixture.pool(client, "late-joiner", dev.provider(1).getAddress(), 2);
    await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () -> client.resources(GpuProvider.class).withName("prov-late-joiner").get(),
            p ->
                p.getStatus() != null
                    && p.getStatus().stake != null
                    && "2".equals(p.getStatus().stake.staked)
                    && Boolean.TRUE.equals(p.getStatus().stake.sufficient));
  }
}
