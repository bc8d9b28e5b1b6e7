package io.gpupool.operator.inference;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.gpupool.scheduler.verify.CanaryAnswer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The canary's request is an ordinary greedy completion; answers with and without logprobs. */
class HttpCanaryClientTest {
  private static Pod leader(String ip) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("l")
        .endMetadata()
        .withNewStatus()
        .withPodIP(ip)
        .endStatus()
        .build();
  }

  @Test
  void sendsAGreedyCompletionAndReadsTokensAndLogprobs() throws Exception {
    AtomicReference<String> request = new AtomicReference<>();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/v1/completions",
        ex -> {
          request.set(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          byte[] body =
              ("{\"choices\":[{\"text\":\"ab\",\"logprobs\":{\"tokens\":[\"a\",\"b\"],"
                      + "\"token_logprobs\":[-0.5,-0.25]}}]}")
                  .getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    server.start();
    try {
      Optional<CanaryAnswer> answer =
          new HttpCanaryClient()
              .complete(leader("127.0.0.1"), server.getAddress().getPort(), "p q", 2, 7L, true)
              .toCompletableFuture()
              .join();
      assertThat(answer).contains(new CanaryAnswer("ab", List.of("a", "b"), List.of(-0.5, -0.25)));
      assertThat(request.get())
          .contains(
              "\"prompt\":\"p q\"",
              "\"max_tokens\":2",
              "\"temperature\":0",
              "\"seed\":7",
              "\"logprobs\":1");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void textOnlyAnswersAndBrokenOnesParse() {
    assertThat(HttpCanaryClient.parse("{\"choices\":[{\"text\":\"xy\",\"logprobs\":null}]}"))
        .contains(CanaryAnswer.text("xy"));
    assertThat(HttpCanaryClient.parse("{\"choices\":[]}")).isEmpty();
    assertThat(HttpCanaryClient.parse("not json")).isEmpty();
  }

  @Test
  void anUnreachableOrAddresslessReplicaGivesNoAnswer() throws Exception {
    int closed;
    try (var s = new java.net.ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    assertThat(
            new HttpCanaryClient()
                .complete(leader("127.0.0.1"), closed, "p", 2, 1L, false)
                .toCompletableFuture()
                .join())
        .isEmpty();
    assertThat(
            new HttpCanaryClient()
                .complete(leader(null), 8000, "p", 2, 1L, false)
                .toCompletableFuture()
                .join())
        .isEmpty();
  }
}
