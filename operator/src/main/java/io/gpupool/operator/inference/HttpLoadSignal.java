package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Pod;
import io.quarkus.arc.DefaultBean;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.OptionalDouble;
import org.jboss.logging.Logger;

/**
 * Scrapes {@code http://<leader pod IP>:<port><metricsPath>} for {@link LoadSignal#METRIC}, with
 * short timeouts: a slow replica must not stall the reconcile loop.
 */
@ApplicationScoped
@DefaultBean
public class HttpLoadSignal implements LoadSignal {
  private static final Logger LOG = Logger.getLogger(HttpLoadSignal.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(2);

  private final HttpClient http =
      HttpClient.newBuilder()
          .connectTimeout(TIMEOUT)
          .followRedirects(HttpClient.Redirect.NEVER)
          .build();

  @Override
  public OptionalDouble inFlight(Pod leader, int port, String metricsPath) {
    String ip = leader.getStatus() == null ? null : leader.getStatus().getPodIP();
    if (ip == null || ip.isBlank()) {
      return OptionalDouble.empty();
    }
    String host = ip.contains(":") ? "[" + ip + "]" : ip;
    String path = metricsPath == null || metricsPath.isBlank() ? "/metrics" : metricsPath;
    URI uri = URI.create("http://" + host + ":" + port + (path.startsWith("/") ? "" : "/") + path);
    try {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        LOG.debugf("%s answered %d", uri, response.statusCode());
        return OptionalDouble.empty();
      }
      return PrometheusText.gauge(response.body(), METRIC);
    } catch (IOException e) {
      LOG.debugf("%s unreachable: %s", uri, e.getMessage());
      return OptionalDouble.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return OptionalDouble.empty();
    }
  }
}
