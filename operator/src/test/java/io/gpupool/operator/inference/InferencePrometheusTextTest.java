package io.gpupool.operator.inference;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class InferencePrometheusTextTest {
  private static final String M = LoadSignal.METRIC;

  @Test
  void readsAnUnlabelledGauge() {
    String text =
        "# HELP gpupool_inflight_requests Requests being served\n"
            + "# TYPE gpupool_inflight_requests gauge\n"
            + "gpupool_inflight_requests 12\n";
    assertThat(PrometheusText.gauge(text, M)).hasValue(12.0);
  }

  @Test
  void sumsLabelSetsAndIgnoresTimestampsAndOtherMetrics() {
    String text =
        "gpupool_inflight_requests_total 99\n"
            + "gpupool_inflight_requests{model=\"a\",path=\"/v1/{x}\"} 3.5 1700000000000\n"
            + "gpupool_inflight_requests{model=\"b \\\"q\\\" }\"} 1.5\n"
            + "vllm:num_requests_running 7\n";
    assertThat(PrometheusText.gauge(text, M)).hasValue(5.0);
  }

  @Test
  void emptyWhenAbsentOrUnparseable() {
    assertThat(PrometheusText.gauge("other 1\n", M)).isEmpty();
    assertThat(PrometheusText.gauge("gpupool_inflight_requests abc\n", M)).isEmpty();
    assertThat(PrometheusText.gauge("gpupool_inflight_requests NaN\n", M)).isEmpty();
    assertThat(PrometheusText.gauge("gpupool_inflight_requests{broken 1\n", M)).isEmpty();
    assertThat(PrometheusText.gauge("", M)).isEmpty();
  }

  @Test
  void toleratesWindowsLineEndingsAndExponents() {
    assertThat(PrometheusText.gauge("gpupool_inflight_requests 1.2e1\r\n", M)).hasValue(12.0);
  }
}
