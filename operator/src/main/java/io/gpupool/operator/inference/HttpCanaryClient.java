package io.gpupool.operator.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.scheduler.verify.CanaryAnswer;
import io.quarkus.arc.DefaultBean;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jboss.logging.Logger;

/**
 * Sends a canary as {@code POST http://<leader pod IP>:<port>/v1/completions} with {@code
 * temperature: 0}, the way any client of an OpenAI-compatible server (vLLM, TGI, serve.py) would,
 * so a replica cannot tell a canary from user traffic by its shape.
 */
@ApplicationScoped
@DefaultBean
public class HttpCanaryClient implements CanaryClient {
  private static final Logger LOG = Logger.getLogger(HttpCanaryClient.class);
  private static final Duration CONNECT = Duration.ofSeconds(2);
  private static final Duration ANSWER = Duration.ofSeconds(20);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http =
      HttpClient.newBuilder()
          .connectTimeout(CONNECT)
          .followRedirects(HttpClient.Redirect.NEVER)
          .build();

  @Override
  public CompletionStage<Optional<CanaryAnswer>> complete(
      Pod leader, int port, String prompt, int maxTokens, long seed, boolean logprobs) {
    String ip = leader.getStatus() == null ? null : leader.getStatus().getPodIP();
    if (ip == null || ip.isBlank()) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    String host = ip.contains(":") ? "[" + ip + "]" : ip;
    URI uri = URI.create("http://" + host + ":" + port + "/v1/completions");
    ObjectNode body = JSON.createObjectNode();
    body.put("prompt", prompt);
    body.put("max_tokens", maxTokens);
    body.put("temperature", 0);
    body.put("seed", seed);
    if (logprobs) {
      body.put("logprobs", 1);
    }
    HttpRequest request =
        HttpRequest.newBuilder(uri)
            .timeout(ANSWER)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
            .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
        .thenApply(
            response -> {
              if (response.statusCode() != 200) {
                LOG.debugf("%s answered %d", uri, response.statusCode());
                return Optional.<CanaryAnswer>empty();
              }
              return parse(response.body());
            })
        .exceptionally(
            e -> {
              LOG.debugf("%s unreachable: %s", uri, e.getMessage());
              return Optional.empty();
            });
  }

  /** The first choice of an OpenAI completion; tokens and logprobs when it has them. */
  static Optional<CanaryAnswer> parse(String body) {
    try {
      JsonNode choice = JSON.readTree(body).path("choices").path(0);
      JsonNode text = choice.path("text");
      if (!text.isTextual()) {
        return Optional.empty();
      }
      List<String> tokens = new ArrayList<>();
      List<Double> logprobs = new ArrayList<>();
      JsonNode lp = choice.path("logprobs");
      if (lp.path("tokens").isArray() && lp.path("token_logprobs").isArray()) {
        lp.path("tokens").forEach(t -> tokens.add(t.asText()));
        lp.path("token_logprobs").forEach(v -> logprobs.add(v.asDouble()));
        if (tokens.size() != logprobs.size()) {
          return Optional.of(CanaryAnswer.text(text.asText()));
        }
      }
      return Optional.of(new CanaryAnswer(text.asText(), tokens, logprobs));
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
