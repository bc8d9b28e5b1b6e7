package io.gpupool.operator.inventory;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProviderDirectoryTest {

  @Test
  void onlyARiseToTheNextHundredthCanAdmitWaitingJobs() {
    assertThat(ProviderDirectory.mayAdmitMore(0.949, 0.951)).isTrue();
    assertThat(ProviderDirectory.mayAdmitMore(0.80, 0.99)).isTrue();
    assertThat(ProviderDirectory.mayAdmitMore(0.9501, 0.9509)).as("uptime creep").isFalse();
    assertThat(ProviderDirectory.mayAdmitMore(0.99, 0.70)).as("a drop admits nobody").isFalse();
    assertThat(ProviderDirectory.mayAdmitMore(1.0, 1.0)).isFalse();
  }
}
