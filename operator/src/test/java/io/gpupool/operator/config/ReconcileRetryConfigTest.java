package io.gpupool.operator.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * Every controller retries a failed reconcile for as long as it fails: with JOSDK's default of 5
 * attempts a job whose reconciles failed through an API-server outage waited for an event that
 * never came (ChaosE2E).
 */
class ReconcileRetryConfigTest {

  @Test
  void everyControllerRetriesWithoutLimitAndBacksOffToAMinute() throws IOException {
    Properties p = new Properties();
    try (InputStream in = getClass().getResourceAsStream("/application.properties")) {
      p.load(in);
    }
    for (String controller :
        new String[] {"trainingjob", "inferencejob", "gpuprovider", "gpuqueue"}) {
      String prefix = "quarkus.operator-sdk.controllers.\"" + controller + "\".retry.";
      assertThat(p.getProperty(prefix + "max-attempts")).as(controller).isEqualTo("-1");
      assertThat(p.getProperty(prefix + "interval.max")).as(controller).isEqualTo("60000");
    }
  }
}
