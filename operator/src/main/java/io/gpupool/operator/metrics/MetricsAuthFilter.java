package io.gpupool.operator.metrics;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.operator.config.GpupoolConfig;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Clock;
import org.jboss.logging.Logger;

/**
 * Puts delegated authentication and authorization in front of {@code /q/metrics} when {@code
 * gpupool.metrics.auth} is on (the chart's default): the metrics carry tenant namespaces, job
 * names, payer addresses and escrow balances. Health probes stay open.
 */
@ApplicationScoped
public class MetricsAuthFilter {
  static final String PATH = "/q/metrics";
  private static final Logger LOG = Logger.getLogger(MetricsAuthFilter.class);

  private final GpupoolConfig config;
  private final KubernetesClient client;

  public MetricsAuthFilter(GpupoolConfig config, KubernetesClient client) {
    this.config = config;
    this.client = client;
  }

  void install(@Observes Router router) {
    if (!config.metrics().auth()) {
      LOG.infof("metrics: %s is served without authentication (gpupool.metrics.auth=false)", PATH);
      return;
    }
    MetricsAccess access =
        new MetricsAccess(new ApiServerReviewer(client), PATH, Clock.systemUTC());
    router.route(PATH + "*").order(Integer.MIN_VALUE).handler(ctx -> authorize(access, ctx));
    LOG.infof(
        "metrics: %s needs a token allowed to get it (TokenReview, SubjectAccessReview)", PATH);
  }

  private static void authorize(MetricsAccess access, RoutingContext ctx) {
    String authorization = ctx.request().getHeader("Authorization");
    ctx.vertx()
        .executeBlocking(() -> access.check(authorization), false)
        .onComplete(
            result -> {
              if (result.failed()) {
                LOG.warnf(result.cause(), "metrics: reviewing a scraper's token failed");
                ctx.response().setStatusCode(503).end("the API server could not review the token");
              } else if (result.result().allowed()) {
                ctx.next();
              } else {
                ctx.response()
                    .setStatusCode(result.result().status())
                    .putHeader("Content-Type", "text/plain")
                    .end(result.result().message() + "\n");
              }
            });
  }
}
