package io.gpupool.billing.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;

/**
 * A new leader checks the contract's VERSION() before it settles. A chaos run (fresh clone of
 * be99518) injected a JSON-RPC internal error into that one call: it was read as a revert, the
 * operator concluded "not GpuPoolBilling" and kept billing off for good (no settlement, no stakes,
 * every job waiting). Only the contract's own answers may say the contract is wrong: a node-side
 * JSON-RPC error is as transient as a dropped connection.
 */
class ContractVersionCheckTest {
  private static final Credentials REPORTER =
      Credentials.create("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
  private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*(\\d+)");

  private HttpServer server;

  /** A JSON-RPC endpoint answering every call with {@code body} (its "id" filled in). */
  private String endpoint(String body) throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          String request;
          try (InputStream in = exchange.getRequestBody()) {
            request = new String(in.readAllBytes(), StandardCharsets.UTF_8);
          }
          Matcher id = ID.matcher(request);
          byte[] reply =
              body.replace("ID", id.find() ? id.group(1) : "1").getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().set("Content-Type", "application/json");
          exchange.sendResponseHeaders(200, reply.length);
          exchange.getResponseBody().write(reply);
          exchange.close();
        });
    server.start();
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private Throwable check(String body) throws IOException {
    try (Web3jBillingChain chain =
        new Web3jBillingChain(
            ChainConfig.of(endpoint(body), "0x5FbDB2315678afecb367f032d93F642f64180aa3", 31337),
            REPORTER)) {
      return catchThrowable(chain::requireContractVersion);
    }
  }

  @Test
  void aNodeSideJsonRpcErrorIsTransientNotAWrongContract() throws IOException {
    Throwable failure =
        check(
            "{\"jsonrpc\":\"2.0\",\"id\":ID,\"error\":{\"code\":-32603,"
                + "\"message\":\"internal error\"}}");
    assertThat(failure)
        .isInstanceOf(ChainUnavailableException.class)
        .hasMessageContaining("-32603")
        .isNotInstanceOf(ContractVersionMismatchException.class);
  }

  @Test
  void aRevertedCallOrNoCodeAtTheAddressIsAWrongContract() throws IOException {
    assertThat(
            check(
                "{\"jsonrpc\":\"2.0\",\"id\":ID,\"error\":{\"code\":3,"
                    + "\"message\":\"execution reverted\",\"data\":\"0x\"}}"))
        .isInstanceOf(ContractVersionMismatchException.class);
    server.stop(0);
    assertThat(
            check(
                "{\"jsonrpc\":\"2.0\",\"id\":ID,\"error\":{\"code\":-32000,"
                    + "\"message\":\"execution reverted\"}}"))
        .isInstanceOf(ContractVersionMismatchException.class);
    server.stop(0);
    assertThat(check("{\"jsonrpc\":\"2.0\",\"id\":ID,\"result\":\"0x\"}"))
        .as("no code at the address: the call returns nothing")
        .isInstanceOf(ContractVersionMismatchException.class);
  }

  @Test
  void theExpectedVersionPasses() throws IOException {
    String six = "0x" + "0".repeat(63) + "6";
    Throwable failure = check("{\"jsonrpc\":\"2.0\",\"id\":ID,\"result\":\"" + six + "\"}");
    assertThatCode(
            () -> {
              if (failure != null) {
                throw failure;
              }
            })
        .doesNotThrowAnyException();
  }
}
