package io.gpupool.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

class ServiceProxiesTest {

  private static Service service(String name, int port) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withNamespace("default")
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .addToSelector("app", name)
        .addNewPort()
        .withPort(port)
        .endPort()
        .endSpec()
        .build();
  }

  /**
   * Two sandboxes on one host (the E2E classes run two at a time) count Service addresses from the
   * same place: the second must not be handed an address whose port the first holds.
   */
  @Test
  void aServiceWhosePortIsTakenAtItsAddressMovesToAnAddressOfItsOwn() throws Exception {
    int port = 20_000 + ThreadLocalRandom.current().nextInt(20_000);
    List<String> log = new ArrayList<>();
    PodNetwork network = new PodNetwork(List::of);
    try (ServiceProxies first = new ServiceProxies(network, List::of, log::add);
        ServiceProxies second = new ServiceProxies(network, List::of, log::add)) {
      first.onService(service("tiny-chat", port));
      second.onService(service("tiny-chat", port));

      String a = first.address("default", "tiny-chat").orElseThrow();
      String b = second.address("default", "tiny-chat").orElseThrow();
      assertThat(b).as("the second sandbox's Service").isNotEqualTo(a);
      for (String address : List.of(a, b)) {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress(address, port), 2000); // listening: no ConnectException
        }
      }
      assertThat(log).noneMatch(line -> line.contains("cannot listen"));
    }
  }

  @Test
  void addressesOfOneRangeAreDistinctAcrossBlocks() {
    assertThat(PodNetwork.loopback(79, 0, 1)).isEqualTo("127.79.0.2");
    assertThat(PodNetwork.loopback(79, 0, 250)).isEqualTo("127.79.1.1");
    assertThat(PodNetwork.loopback(78, 7, 1)).isEqualTo("127.78.7.2");
    assertThat(PodNetwork.loopback(78, 255, 250)).isEqualTo("127.78.0.1");
  }
}
