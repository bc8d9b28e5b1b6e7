package io.gpupool.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogLinesTest {

  @Test
  void theLastMatchingLineIsFoundAndALogWithoutOneSaysNone() {
    String log =
        "06:20:47.685 INFO  [io.gp.op.le.LeaderElectionProducer] leader is now vm-1\n"
            + "06:20:48.000 WARN  [io.gp.op.co.Periodic] metering pass failed\n"
            + "06:21:01.087 INFO  [io.gp.op.le.Leadership] this replica now leads\n"
            + "\tat io.gpupool.Something\n";
    assertThat(LogLines.last(log, l -> l.contains("[io.gp.op.le.")))
        .isEqualTo("06:21:01.087 INFO  [io.gp.op.le.Leadership] this replica now leads");
    assertThat(LogLines.last(log, l -> l.contains(" ERROR "))).isEqualTo("none");
    assertThat(LogLines.last("x".repeat(500), l -> true)).hasSize(243).endsWith("...");
  }
}
