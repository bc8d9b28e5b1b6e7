package io.gpupool.billing.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.billing.devchain.AnvilProcess;
import io.gpupool.billing.devchain.DevAccounts;
import java.util.List;
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
}
