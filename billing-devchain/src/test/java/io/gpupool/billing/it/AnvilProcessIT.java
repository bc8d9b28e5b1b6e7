package io.gpupool.billing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.billing.devchain.AnvilProcess;
import io.gpupool.billing.devchain.DevAccounts;
import java.util.List;
import java.util.PrimitiveIterator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.http.HttpService;

class AnvilProcessIT {

  @Test
  void startsOnAFreeLoopbackPortAnswersAndStops() throws Exception {
    AnvilProcess anvil = AnvilProcess.start();
    try {
      assertThat(anvil.rpcUrl()).startsWith("http://127.0.0.1:");
      assertThat(anvil.answers()).isTrue();
      Web3j web3j = Web3j.build(new HttpService(anvil.rpcUrl()));
      assertThat(web3j.ethChainId().send().getChainId().longValue())
          .isEqualTo(AnvilProcess.CHAIN_ID);
      List<String> accounts = web3j.ethAccounts().send().getAccounts();
      for (int i = 0; i < 10; i++) {
        assertThat(DevAccounts.account(i).getAddress()).isEqualTo(accounts.get(i).toLowerCase());
      }
      web3j.shutdown();
    } finally {
      anvil.close();
    }
    assertThat(anvil.isAlive()).isFalse();
    assertThat(anvil.answers()).isFalse();
  }

  /**
   * Another process's anvil already answers on the port: starting there must fail with our own
   * anvil's bind error instead of handing out a chain that belongs to someone else.
   */
  @Test
  void aForeignAnvilOnThePortIsNotTakenForOurs() {
    try (AnvilProcess foreign = AnvilProcess.start()) {
      assertThatThrownBy(
              () -> AnvilProcess.startOn(AnvilProcess.locateBinary(), foreign.port(), List.of()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("Address already in use");
      assertThat(foreign.answers()).isTrue();
    }
  }

  /** A port lost to a foreign anvil between probing and binding is given up for the next one. */
  @Test
  void aPortTakenBetweenProbingAndBindingIsRetriedOnAnother() {
    try (AnvilProcess foreign = AnvilProcess.start()) {
      PrimitiveIterator.OfInt ports =
          IntStream.of(foreign.port(), AnvilProcess.freePort()).iterator();
      try (AnvilProcess ours =
          AnvilProcess.start(AnvilProcess.locateBinary(), List.of(), ports::nextInt)) {
        assertThat(ours.port()).isNotEqualTo(foreign.port());
        assertThat(ours.answers()).isTrue();
        ours.close();
        assertThat(ours.answers()).isFalse();
        assertThat(foreign.answers()).isTrue();
      }
    }
  }
}
