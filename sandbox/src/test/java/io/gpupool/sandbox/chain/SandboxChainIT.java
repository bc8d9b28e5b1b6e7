package io.gpupool.sandbox.chain;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.chain.KeySource;
import io.gpupool.billing.cli.ChainCli;
import io.gpupool.billing.devchain.DevAccounts;
import io.gpupool.sandbox.pool.PoolFile;
import io.gpupool.sandbox.pool.PoolSpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The sandbox's chain against a real anvil: what the operator and the examples rely on. */
class SandboxChainIT {

  @Test
  void deploysRegistersProvidersFundsTheExamplePayersAndStopsAnvil() throws Exception {
    PoolSpec pool = PoolFile.loadDefault();
    List<String> log = new ArrayList<>();
    SandboxChain.Options options = SandboxChain.Options.forTimeScale(20);
    SandboxChain chain = SandboxChain.start(pool, options, log::add);
    String rpc = chain.rpcUrl();
    try {
      assertThat(rpc).startsWith("http://127.0.0.1:");
      // every provider of the default pool is an anvil dev account: all registered to themselves
      assertThat(chain.registeredProviders()).hasSize(pool.providers().size());
      for (PoolSpec.Provider p : pool.providers()) {
        assertThat(chain.payoutAddress(p.payoutAddress())).isEqualToIgnoringCase(p.payoutAddress());
        assertThat(chain.providerBalance(p.payoutAddress())).isZero();
        // staked with its own key, one token per GPU it offers (the dishonest provider two)
        BigInteger perGpu = TokenUnits.toWei(p.name().equals("bargain-h100-hub") ? "2" : "1");
        assertThat(chain.stake(p.payoutAddress()))
            .isEqualTo(perGpu.multiply(BigInteger.valueOf(PoolStakes.gpusOf(pool, p.name()))))
            .isEqualTo(PoolStakes.stakeOf(pool, p))
            .isPositive();
      }
      // examples/ pay from dev accounts 6, 7, 8
      assertThat(chain.payers())
          .containsExactly(
              "0x976ea74026e726554db657fa54763abd0c3a0aa9",
              "0x14dc79964da2c08b23698b3d3cc7ca32193d9955",
              "0x23618e81e3f5cdf7f54c3d65f7fbc0abf5b21e8f");
      for (String payer : chain.payers()) {
        assertThat(chain.escrow(payer)).isEqualTo(TokenUnits.toWei("100"));
      }
      // accounts 10..19 are funded too: free keys for providers that stake themselves
      assertThat(PoolStakes.devAccount(DevAccounts.account(15).getAddress())).isPresent();
      assertThat(
              rpc(
                  rpc,
                  "eth_getBalance",
                  "[\"" + DevAccounts.account(15).getAddress() + "\",\"latest\"]"))
          .doesNotContain("\"result\":\"0x0\"");
      String broke = DevAccounts.account(5).getAddress();
      assertThat(chain.escrow(broke)).isZero();
      chain.deposit(broke, BigInteger.TEN);
      assertThat(chain.escrow(broke)).isEqualTo(BigInteger.TEN);

      Map<String, String> env = chain.operatorEnvironment();
      assertThat(env)
          .containsEntry("GPUPOOL_BILLING_ENABLED", "true")
          .containsEntry("GPUPOOL_BILLING_RPC_URL", rpc)
          .containsEntry("GPUPOOL_BILLING_CONTRACT_ADDRESS", chain.contractAddress())
          .containsEntry("GPUPOOL_BILLING_CHAIN_ID", "31337")
          .containsEntry("GPUPOOL_BILLING_SETTLEMENT_INTERVAL", "PT3S")
          .containsEntry("GPUPOOL_BILLING_METERING_INTERVAL", "PT1.5S")
          .containsEntry("GPUPOOL_BILLING_SUSPEND_GRACE", "PT30S")
          .containsEntry("GPUPOOL_BILLING_RECHECK_INTERVAL", "PT10S")
          .containsEntry("GPUPOOL_BILLING_RECONCILE_FROM_BLOCK", Long.toString(chain.deployBlock()))
          // every provider staked with its own key: the stake gate is on
          .containsEntry("GPUPOOL_TRUST_MIN_STAKE_PER_GPU", "1")
          .containsEntry("GPUPOOL_TRUST_STAKE_REFRESH", "PT2S");
      // a slashed provider's whistleblower reward must not land on the provider itself
      assertThat(pool.providers())
          .noneMatch(p -> p.payoutAddress().equalsIgnoreCase(SandboxChain.reporter().getAddress()));
      String key = env.get(KeySource.DEFAULT_ENV);
      assertThat(KeySource.parse(key, "test").getAddress())
          .isEqualTo(SandboxChain.reporter().getAddress());
      // the reporter is authorised on the deployed contract
      assertThat(chain.isReporter(SandboxChain.reporter().getAddress())).isTrue();
      assertThat(chain.isReporter(DevAccounts.account(DevAccounts.REPORTER).getAddress()))
          .isFalse();

      // what is printed carries no key, and its query command really answers
      String printed = String.join("\n", chain.describe()) + String.join("\n", log);
      assertThat(printed)
          .contains(chain.contractAddress(), rpc)
          .doesNotContain(key)
          .doesNotContain(key.substring(2));
      String provider = pool.providers().get(0).payoutAddress().toLowerCase(Locale.ROOT);
      String statusCommand =
          "./gpupool chain status "
              + provider
              + " --rpc "
              + rpc
              + " --contract "
              + chain.contractAddress();
      assertThat(printed).contains(statusCommand);
      ByteArrayOutputStream status = new ByteArrayOutputStream();
      int exit =
          ChainCli.run(
              statusCommand.substring("./gpupool chain ".length()).split(" "),
              new PrintStream(status, true, StandardCharsets.UTF_8),
              new PrintStream(status, true, StandardCharsets.UTF_8),
              Map.of());
      assertThat(status.toString(StandardCharsets.UTF_8))
          .as("the printed status command answers for a provider nothing was settled to yet")
          .contains("registered true, balance 0 (0 wei)")
          .contains(
              "earnings withdrawable after collecting 0 (0 wei), in the challenge window 0 (0 wei)");
      assertThat(exit).isZero();
      String escrow =
          ethCall(rpc, chain.contractAddress(), ChainQueries.escrowOf(chain.payers().get(0)));
      assertThat(escrow).contains(String.format("%064x", TokenUnits.toWei("100")));
    } finally {
      chain.close();
    }
    assertThat(chain.isAlive()).as("anvil stopped on close").isFalse();
  }

  /**
   * A real anvil restart, as the chaos harness does it: the process stopped and started again on
   * its state file and port; what was mined is still there (balances, nonces, receipts), the URL
   * the operator holds still answers.
   */
  @Test
  void anvilRestartsOnTheSameStateAndPort() throws Exception {
    SandboxChain chain =
        SandboxChain.start(
            PoolFile.loadDefault(), SandboxChain.Options.forTimeScale(20), line -> {});
    try {
      String rpc = chain.rpcUrl();
      String broke = DevAccounts.account(5).getAddress();
      chain.deposit(broke, BigInteger.TWO);
      String block = rpc(rpc, "eth_blockNumber", "[]");
      String owner = DevAccounts.account(0).getAddress();
      String nonce = rpc(rpc, "eth_getTransactionCount", "[\"" + owner + "\",\"latest\"]");

      Duration down = chain.restartAnvil();

      assertThat(chain.rpcUrl()).isEqualTo(rpc);
      assertThat(chain.isAlive()).isTrue();
      assertThat(rpc(rpc, "eth_blockNumber", "[]")).isEqualTo(block);
      assertThat(rpc(rpc, "eth_getTransactionCount", "[\"" + owner + "\",\"latest\"]"))
          .isEqualTo(nonce);
      assertThat(chain.escrow(broke)).isEqualTo(BigInteger.TWO);
      chain.deposit(broke, BigInteger.ONE);
      assertThat(chain.escrow(broke)).as("and it goes on").isEqualTo(BigInteger.valueOf(3));
      assertThat(down).isLessThan(Duration.ofSeconds(20));
    } finally {
      chain.close();
    }
  }

  /**
   * A SIGKILLed anvil writes nothing on the way out: it comes back at the state it wrote last,
   * which it writes every state interval. What was mined before that write is there (without the
   * periodic write the chain came back at block 0, the contract gone); what was mined after it is
   * gone, and the chain goes on from there. A chaos run writes every 10 s so that its crashes do
   * take settlements back.
   */
  @Test
  void aSigkilledAnvilComesBackAtItsLastStateWriteWithTheContract() throws Exception {
    SandboxChain chain =
        SandboxChain.start(
            PoolFile.loadDefault(),
            SandboxChain.Options.forTimeScale(20).withAnvilStateInterval(Duration.ofSeconds(10)),
            line -> {});
    try {
      String broke = DevAccounts.account(5).getAddress();
      chain.deposit(broke, BigInteger.TWO);
      long mined = chain.blockNumber();
      Instant deadline = Instant.now().plusSeconds(30);
      // Until a state write holds the deposit: before anvil's first write there is no state file
      // at all (a quiet machine gets here within a second of the start), which is not "written".
      while (chain.lastStateWriteBlock().orElse(-1) < mined && Instant.now().isBefore(deadline)) {
        Thread.sleep(200);
      }
      assertThat(chain.lastStateWriteBlock()).as("the deposit was written").hasValue(mined);
      chain.deposit(broke, BigInteger.ONE); // mined after the write: the crash takes it back
      long lost = chain.blocksSinceStateWrite();

      Duration down = chain.crashAnvil();

      assertThat(lost).as("blocks above the last write").isPositive();
      assertThat(chain.isAlive()).isTrue();
      assertThat(chain.blockNumber()).isEqualTo(mined);
      assertThat(chain.isReporter(SandboxChain.reporter().getAddress())).isTrue();
      assertThat(chain.escrow(broke)).as("the last deposit is gone").isEqualTo(BigInteger.TWO);
      chain.deposit(broke, BigInteger.ONE);
      assertThat(chain.escrow(broke)).as("and it goes on").isEqualTo(BigInteger.valueOf(3));
      assertThat(down).isLessThan(Duration.ofSeconds(20));
    } finally {
      chain.close();
    }
  }

  private static String rpc(String rpc, String method, String params) throws Exception {
    String body =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"" + method + "\",\"params\":" + params + "}";
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create(rpc))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  private static String ethCall(String rpc, String to, String data) throws Exception {
    String body =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":[{\"to\":\""
            + to
            + "\",\"data\":\""
            + data
            + "\"},\"latest\"]}";
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create(rpc))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }
}
