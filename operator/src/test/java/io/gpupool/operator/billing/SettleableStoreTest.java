package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.gpupool.billing.PairId;
import io.gpupool.billing.ledger.StoreUnavailableException;
import java.net.ServerSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The settlement loop's store reached through an API server that does not answer: the failure is
 * the store being unavailable (a settlement round ends and the next retries), not an unexpected
 * failure, whose metric says "a bug".
 */
class SettleableStoreTest {
  private KubernetesClient client;

  @BeforeEach
  void clientOfAClosedPort() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort(); // closed again: nothing answers there
    }
    client =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder()
                    .withMasterUrl("http://127.0.0.1:" + port)
                    .withRequestRetryBackoffLimit(0)
                    .withConnectionTimeout(1_000)
                    .withRequestTimeout(1_000)
                    .build())
            .build();
  }

  @AfterEach
  void close() {
    client.close();
  }

  @Test
  void anApiServerThatDoesNotAnswerIsTheStoreBeingUnavailable() {
    SettleableStore store = new SettleableStore(new ConfigMapBillingStore(client, "billing"));
    PairId pair =
        new PairId(
            "uid-1",
            "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    assertThatThrownBy(store::outbox)
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageStartingWith("usage ConfigMaps: ");
    assertThatThrownBy(() -> store.update(pair, l -> l))
        .isInstanceOf(StoreUnavailableException.class);
    assertThatThrownBy(() -> store.removeOutbox(7)).isInstanceOf(StoreUnavailableException.class);
  }
}
