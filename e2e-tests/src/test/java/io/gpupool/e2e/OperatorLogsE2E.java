package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The packaged operator as the chart runs it with {@code logFormat: json} and billing on, its RPC
 * URL (from {@code billing.rpcUrlSecret}) carrying an API key in the user info, the path and the
 * query, against an endpoint that answers every call with a web server's 404 page naming the path
 * it was asked for. Every line the operator writes must be one JSON object, and neither its log (at
 * DEBUG) nor the cluster's events and gpupool resources may carry any part of the key.
 */
class OperatorLogsE2E {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Anvil's second dev account: a valid key the operator can sign with (never reaches a chain). */
  private static final String REPORTER_KEY =
      "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

  @Test
  void everyLineIsJsonAndNeitherLogsNorEventsCarryTheRpcKey() throws Exception {
    String pathKey = "pk" + UUID.randomUUID().toString().replace("-", "");
    String queryKey = "qk" + UUID.randomUUID().toString().replace("-", "");
    String password = "pw" + UUID.randomUUID().toString().replace("-", "");
    AtomicInteger calls = new AtomicInteger();
    HttpServer rpc = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    rpc.createContext(
        "/",
        exchange -> {
          calls.incrementAndGet();
          byte[] body =
              ("Cannot POST " + exchange.getRequestURI()).getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(404, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    rpc.start();
    String url =
        "http://gpupool:%s@127.0.0.1:%d/v3/%s?apikey=%s"
            .formatted(password, rpc.getAddress().getPort(), pathKey, queryKey);

    Map<String, String> env =
        new java.util.LinkedHashMap<>(
            ChartRelease.operatorEnvironmentWith(
                Map.of(
                    "logFormat", "json",
                    "logLevel", "DEBUG",
                    "billing.rpcUrlSecret.secretName", "chain-rpc")));
    assertThat(env)
        .as("the chart turns JSON on and keeps the URL out of the Deployment")
        .containsEntry("QUARKUS_LOG_CONSOLE_JSON_ENABLED", "true")
        .doesNotContainKey("GPUPOOL_BILLING_RPC_URL");
    // What the kubelet resolves from the Secrets (secretKeyRef).
    env.put("GPUPOOL_BILLING_RPC_URL", url);
    env.put("GPUPOOL_BILLING_REPORTER_KEY", REPORTER_KEY);

    try (SandboxCluster cluster = SandboxCluster.start("operator-logs", 20, env)) {
      Kubectl kubectl = cluster.kubectl;
      // The chain error path: taking the lead, the operator checks the contract's version (and
      // retries while the RPC endpoint errs).
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  calls.get() > 0
                      && cluster
                          .operatorLog()
                          .contains("connecting to the billing contract failed"));
      // A reconcile that logs (a job deleted): its line carries the job in the MDC.
      kubectl
          .run(
              "apply",
              "-f",
              SandboxCluster.REPO.resolve("examples/billing-accounts.yaml").toString())
          .expectSuccess();
      kubectl.applyText(ExamplesE2E.trainingJob("logged", 1, "60")).expectSuccess();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  !kubectl
                      .run("get", "tj", "logged", "-o", "jsonpath={.status.conditions}")
                      .out()
                      .isBlank());
      // Billing is on and its contract out of reach: the job waits, it never runs unbilled.
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  kubectl
                      .run(
                          "get",
                          "tj",
                          "logged",
                          "-o",
                          "jsonpath={.status.conditions[?(@.type==\"Funded\")].reason}")
                      .out()
                      .contains("BillingChainUnavailable"));
      assertThat(cluster.client().pods().inNamespace("default").list().getItems())
          .as("pods of a job waiting for the billing contract")
          .isEmpty();
      kubectl.run("delete", "tj", "logged", "--timeout=30s").expectSuccess();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> cluster.operatorLog().contains("TrainingJob(default/logged) deleted"));

      String log = cluster.operatorLog();
      List<JsonNode> records = new ArrayList<>();
      List<String> notJson = new ArrayList<>();
      for (String line : log.split("\n")) {
        if (line.isBlank()) {
          continue;
        }
        try {
          JsonNode record = JSON.readTree(line);
          if (record == null || !record.isObject()) {
            notJson.add(line);
          } else {
            records.add(record);
          }
        } catch (IOException e) {
          notJson.add(line);
        }
      }
      assertThat(notJson).as("operator log lines that are not one JSON object").isEmpty();
      assertThat(records).hasSizeGreaterThan(20);
      assertThat(records)
          .allSatisfy(
              r ->
                  assertThat(r.fieldNames())
                      .toIterable()
                      .contains("timestamp", "level", "loggerName", "message", "threadName"));
      assertThat(records)
          .as("the chain failure is logged with its exception as structured fields")
          .anySatisfy(
              r -> {
                assertThat(r.path("message").asText())
                    .contains("connecting to the billing contract failed");
                assertThat(r.path("exception").path("message").asText())
                    .contains("RPC unavailable");
                assertThat(r.path("exception").path("frames").isArray()).isTrue();
              });
      assertThat(records)
          .as("a reconcile's line names its resource in the MDC")
          .anySatisfy(
              r -> {
                assertThat(r.path("mdc").path("resource.name").asText()).isEqualTo("logged");
                assertThat(r.path("mdc").path("resource.namespace").asText()).isEqualTo("default");
              });

      String events = Serialization.asJson(cluster.client().v1().events().inAnyNamespace().list());
      String resources =
          kubectl
              .run(
                  "get",
                  "trainingjobs,inferencejobs,gpuproviders,billingaccounts",
                  "-A",
                  "-o",
                  "json")
              .expectSuccess()
              .out();
      assertThat(events).as("events were recorded").contains("\"reason\"");
      for (String secret : List.of(pathKey, queryKey, password)) {
        assertThat(log).as("operator log").doesNotContain(secret);
        assertThat(events).as("events").doesNotContain(secret);
        assertThat(resources).as("gpupool resources").doesNotContain(secret);
      }
    } finally {
      rpc.stop(0);
    }
  }
}
