package io.gpupool.billing.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.sun.net.httpserver.HttpServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;

/**
 * The chain RPC URL often carries the provider's API key (in the path, the query or as user info):
 * neither the configuration's string form nor the errors a failing endpoint produces (what the
 * operator logs and turns into events) may contain it.
 */
class RpcUrlSecrecyTest {
  private static final String KEY = "sk-live-7f3c9a1e5d";
  private static final Credentials REPORTER =
      Credentials.create("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");

  private static String everything(Throwable t) {
    StringWriter out = new StringWriter();
    t.printStackTrace(new PrintWriter(out));
    return out.toString();
  }

  @Test
  void theConfigurationsStringFormHidesTheUrlsSecretParts() {
    for (String url :
        new String[] {
          "https://eth-mainnet.example.com/v2/" + KEY,
          "https://rpc.example.com/?apikey=" + KEY,
          "https://user:" + KEY + "@rpc.example.com/"
        }) {
      ChainConfig config = ChainConfig.of(url, "0x5FbDB2315678afecb367f032d93F642f64180aa3", 8453);
      assertThat(config.toString()).doesNotContain(KEY).contains("rpc").contains("8453");
    }
  }

  @Test
  void anUnreachableOrRefusingEndpointsErrorsDoNotCarryTheKey() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    HttpServer refusing = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    refusing.createContext(
        "/",
        exchange -> {
          byte[] body = "{\"error\":\"invalid api key\"}".getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(401, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    refusing.start();
    // A web server's default 404 page names what was asked for ("Cannot POST /v2/KEY"): a URL
    // with a typo in the host's path, or a proxy in front of the node, echoes the key back.
    HttpServer echoing = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    echoing.createContext(
        "/",
        exchange -> {
          byte[] body =
              ("Cannot POST " + exchange.getRequestURI()).getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(404, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    echoing.start();
    try {
      for (String url :
          new String[] {
            "http://127.0.0.1:" + closed + "/v2/" + KEY,
            "http://127.0.0.1:" + refusing.getAddress().getPort() + "/v2/" + KEY + "?k=" + KEY,
            "http://127.0.0.1:" + echoing.getAddress().getPort() + "/v2/" + KEY + "?k=" + KEY,
            "http://gpupool:" + KEY + "@127.0.0.1:" + echoing.getAddress().getPort() + "/rpc"
          }) {
        try (Web3jBillingChain chain =
            new Web3jBillingChain(
                ChainConfig.of(url, "0x5FbDB2315678afecb367f032d93F642f64180aa3", 31337),
                REPORTER)) {
          Throwable failure = catchThrowable(chain::requireContractVersion);
          assertThat(failure).as("the endpoint fails: %s", url).isNotNull();
          assertThat(everything(failure)).doesNotContain(KEY);
        }
      }
    } finally {
      refusing.stop(0);
      echoing.stop(0);
    }
  }

  @Test
  void redactionReplacesEachSecretPartWhereverItAppears() {
    ChainConfig config =
        ChainConfig.of(
            "https://gpupool:" + KEY + "@rpc.example.com/v3/" + KEY + "?apikey=" + KEY,
            "0x5FbDB2315678afecb367f032d93F642f64180aa3",
            8453);
    String redacted =
        config.redact("Cannot POST /v3/" + KEY + "?apikey=" + KEY + " for gpupool:" + KEY);
    assertThat(redacted).doesNotContain(KEY).startsWith("Cannot POST ");
    assertThat(ChainConfig.of("http://127.0.0.1:8545", "0x" + "0".repeat(40), 1).redact("a/b c"))
        .as("a URL without secrets changes nothing")
        .isEqualTo("a/b c");
  }
}
