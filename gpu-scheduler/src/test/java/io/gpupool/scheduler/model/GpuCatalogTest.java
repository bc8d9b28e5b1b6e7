package io.gpupool.scheduler.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GpuCatalogTest {
  private final GpuCatalog catalog = GpuCatalog.defaults();

  @Test
  void matchesGfdSpellings() {
    assertThat(catalog.lookup("NVIDIA-GeForce-RTX-4090", 0, null).denseTflops()).isEqualTo(165.2);
    assertThat(catalog.lookup("NVIDIA-H100-80GB-HBM3-SHARED", 0, null).denseTflops())
        .isEqualTo(989);
    assertThat(catalog.lookup("A100-SXM4-40GB", 0, null).bandwidthGBs()).isEqualTo(1555);
    assertThat(catalog.lookup("NVIDIA-A100-SXM4-40GB-MIG-1g.5gb", 0, null).product())
        .isEqualTo("A100-SXM4-40GB");
    assertThat(catalog.knows("NVIDIA-A100-80GB-PCIe")).isTrue();
  }

  @Test
  void unknownModelsGetConservativeFamilyEstimate() {
    GpuSpec s = catalog.lookup("NVIDIA-Mystery-9000", 40960, "hopper");
    assertThat(s.estimated()).isTrue();
    assertThat(s.memoryMib()).isEqualTo(40960);
    assertThat(s.denseTflops()).isLessThanOrEqualTo(989).isGreaterThan(0);
    assertThat(catalog.lookup("Nope", 0, null).denseTflops())
        .isLessThan(catalog.lookup("Tesla-T4", 0, null).denseTflops());
  }

  @Test
  void entriesCanBeOverridden() {
    GpuCatalog c = GpuCatalog.defaults();
    c.register(
        "NVIDIA-GeForce-RTX-4090",
        new GpuSpec("GeForce-RTX-4090", "ada-lovelace", 24576, 330.3, 1008, false));
    assertThat(c.lookup("GeForce-RTX-4090-SHARED", 0, null).denseTflops()).isEqualTo(330.3);
  }
}
