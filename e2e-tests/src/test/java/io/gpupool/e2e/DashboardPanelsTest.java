package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The dashboard harness of RepresentativeRunE2E, without Prometheus. */
class DashboardPanelsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void everyDashboardContributesPanelAndVariableQueries() {
    List<DashboardPanels.Query> all = DashboardPanels.all();
    assertThat(all.stream().map(DashboardPanels.Query::dashboard).distinct())
        .containsExactlyInAnyOrder(
            "gpupool / Pool overview",
            "gpupool / Jobs",
            "gpupool / Billing and providers",
            "gpupool / GPU health (DCGM)",
            "gpupool / Queues");
    assertThat(all).allMatch(q -> !q.expr().isBlank());
    assertThat(all)
        .anyMatch(
            q -> q.panel().equals("variable $node") && q.expr().equals("DCGM_FI_DEV_GPU_UTIL"));
    assertThat(all).anyMatch(q -> q.panel().equals("Metered vs settled") && q.refId().equals("B"));
  }

  @Test
  void variablesAreFilledAsGrafanaDoes() {
    assertThat(
            DashboardPanels.substitute(
                "sum(increase(x{kind=~\"$kind\"}[$__rate_interval])) + y[${__range}] + z[$__interval]",
                300,
                2,
                1))
        .isEqualTo("sum(increase(x{kind=~\".*\"}[4s])) + y[300s] + z[2s]");
    assertThat(DashboardPanels.substitute("rate(x[$__rate_interval])", 60, 10, 1))
        .isEqualTo("rate(x[11s])");
  }

  @Test
  void onlyFiniteSamplesCountAsData() throws Exception {
    String empty = "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}";
    String nan =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},"
            + "\"values\":[[1,\"NaN\"],[2,\"+Inf\"]]}]}}";
    String some =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},"
            + "\"values\":[[1,\"NaN\"],[2,\"0\"]]}]}}";
    String instant =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
            + "\"value\":[1,\"3.5\"]}]}}";
    assertThat(RepresentativeRunE2E.hasFiniteSample(JSON.readTree(empty))).isFalse();
    assertThat(RepresentativeRunE2E.hasFiniteSample(JSON.readTree(nan))).isFalse();
    assertThat(RepresentativeRunE2E.hasFiniteSample(JSON.readTree(some))).isTrue();
    assertThat(RepresentativeRunE2E.hasFiniteSample(JSON.readTree(instant))).isTrue();
  }
}
