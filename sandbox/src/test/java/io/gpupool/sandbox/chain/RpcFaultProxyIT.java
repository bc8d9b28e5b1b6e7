package io.gpupool.sandbox.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.gpupool.sandbox.chain.RpcFaultProxy.Fault;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The chain-side fault proxy against a stand-in JSON-RPC node that counts what reaches it: errors
 * and 503s never reach the node, a timed-out request did reach it, an outage answers nothing.
 */
class RpcFaultProxyIT {
  private static final String CALL = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"eth_chainId\"}";
  private HttpServer node;
  private final AtomicInteger reached = new AtomicInteger();
  private final HttpClient client = HttpClient.newHttpClient();
  private RpcFaultProxy proxy;

  @BeforeEach
  void startNode() throws IOException {
    node = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    node.createContext(
        "/",
        ex -> {
          reached.incrementAndGet();
          byte[] ok = "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"0x7a69\"}".getBytes();
          ex.sendResponseHeaders(200, ok.length);
          ex.getResponseBody().write(ok);
          ex.close();
        });
    node.start();
  }

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    node.stop(0);
  }

  private RpcFaultProxy proxy(Map<Fault, Double> rates) {
    proxy =
        new RpcFaultProxy(
                "http://127.0.0.1:" + node.getAddress().getPort(), rates, Duration.ofMillis(600), 1)
            .start();
    return proxy;
  }

  private HttpResponse<String> call(Duration timeout) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create(proxy.url()))
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(CALL, StandardCharsets.UTF_8))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void forwardsWhenNoFaultIsDrawn() throws Exception {
    proxy(Map.of());
    assertThat(call(Duration.ofSeconds(5)).body()).contains("0x7a69");
    assertThat(reached).hasValue(1);
  }

  @Test
  void errorsAndUnavailabilityNeverReachTheChain() throws Exception {
    proxy(Map.of(Fault.RPC_ERROR, 1.0));
    HttpResponse<String> error = call(Duration.ofSeconds(5));
    assertThat(error.statusCode()).isEqualTo(200);
    assertThat(error.body()).contains("\"id\":7").contains("\"error\"").contains("-32603");
    proxy.close();
    proxy(Map.of(Fault.RPC_UNAVAILABLE, 1.0));
    assertThat(call(Duration.ofSeconds(5)).statusCode()).isEqualTo(503);
    assertThat(reached).hasValue(0);
    assertThat(proxy.counts()).containsEntry(Fault.RPC_UNAVAILABLE, 1L);
  }

  @Test
  void aTimedOutRequestReachedTheChainAndItsReplyIsLost() {
    proxy(Map.of(Fault.RPC_TIMEOUT, 1.0));
    assertThatThrownBy(() -> call(Duration.ofMillis(200))).isInstanceOf(HttpTimeoutException.class);
    assertThat(reached).hasValue(1);
    assertThat(proxy.counts()).containsEntry(Fault.RPC_TIMEOUT, 1L);
  }

  @Test
  void anOutageAnswersNothingUntilItEndsAndCalmStopsEverything() throws Exception {
    proxy(Map.of(Fault.RPC_ERROR, 1.0));
    proxy.outage(Duration.ofSeconds(30));
    assertThat(call(Duration.ofSeconds(5)).statusCode()).isEqualTo(502);
    assertThat(reached).hasValue(0);
    proxy.calm();
    assertThat(call(Duration.ofSeconds(5)).body()).contains("0x7a69");
    assertThat(proxy.counts())
        .containsEntry(Fault.RPC_OUTAGE, 1L)
        .containsEntry(Fault.RPC_ERROR, 0L);
  }

  @Test
  void theSendHookRunsOnceAfterATransactionReachedTheChainAndBeforeItsReply() throws Exception {
    proxy(Map.of());
    List<Integer> reachedWhenHookRan = new ArrayList<>();
    proxy.afterNextSend(() -> reachedWhenHookRan.add(reached.get()));
    call(Duration.ofSeconds(5)); // not a transaction: the hook waits
    assertThat(reachedWhenHookRan).isEmpty();
    String send =
        "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"eth_sendRawTransaction\",\"params\":[\"0x01\"]}";
    HttpResponse<String> sent =
        client.send(
            HttpRequest.newBuilder(URI.create(proxy.url()))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(send, StandardCharsets.UTF_8))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(sent.statusCode()).isEqualTo(200);
    assertThat(reachedWhenHookRan).as("the chain had it when the hook ran").containsExactly(2);
    client.send(
        HttpRequest.newBuilder(URI.create(proxy.url()))
            .POST(HttpRequest.BodyPublishers.ofString(send, StandardCharsets.UTF_8))
            .build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(reachedWhenHookRan).as("once").hasSize(1);
    proxy.afterNextSend(() -> reachedWhenHookRan.add(-1));
    assertThat(proxy.disarm()).isTrue();
    assertThat(proxy.disarm()).isFalse();
  }
}
