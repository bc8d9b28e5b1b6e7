package io.gpupool.scheduler.frag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class FragmentationTest {
  private static final long ANY = 1;

  @Test
  void fgdCountsGpusTooSmallForAClassAndEverythingWhenTheClassCannotFit() {
    int[] free = {1000, 190, 530};
    long total = 1720;
    TaskClass half = new TaskClass(1000, 470, 1, 0);
    TaskClass whole = new TaskClass(1000, 1000, 1, 0);
    TaskClass two = new TaskClass(1000, 1000, 2, 0);
    assertThat(Fragmentation.fragmentFor(free, 3, total, 8000, ANY, half)).isEqualTo(190);
    assertThat(Fragmentation.fragmentFor(free, 3, total, 8000, ANY, whole)).isEqualTo(720);
    assertThat(Fragmentation.fragmentFor(free, 3, total, 8000, ANY, two)).isEqualTo(total);
    // Short of CPU: the class cannot use any of it.
    assertThat(Fragmentation.fragmentFor(free, 3, total, 500, ANY, half)).isEqualTo(total);
  }

  @Test
  void cpuStrandedIsTheFreeGpuTheFreeCpuCannotFeed() {
    // 8 free GPUs, 48 cores, 12 CPU milli per milli-GPU: 48 cores feed 4 GPUs, 4 are stranded.
    assertThat(Fragmentation.cpuStranded(8000, 48_000, 12)).isEqualTo(4000.0);
    assertThat(Fragmentation.cpuStranded(2000, 48_000, 12)).isZero();
    assertThat(Fragmentation.cpuStranded(8000, 0, 12)).isEqualTo(8000.0);
    // Nothing learned yet: no opinion.
    assertThat(Fragmentation.cpuStranded(8000, 0, 0)).isZero();
  }

  @Test
  void withCpuStrandingAddsTheStrandedCapacityToFgd() {
    WorkloadMix mix = new WorkloadMix(0.95, 1);
    TaskClass gpuTask = new TaskClass(8000, 1000, 1, 0);
    mix.observe(gpuTask);
    int[] free = {1000, 1000, 1000, 1000, 1000, 1000, 1000};
    // The class still fits (24 cores >= 8), so FGD sees no fragment; 24 cores feed only 3 GPUs.
    assertThat(Fragmentation.of(free, 7, 24_000, ANY, mix.classes())).isZero();
    assertThat(Fragmentation.withCpuStranding(free, 7, 24_000, ANY, mix))
        .isCloseTo(4000.0, within(1e-9));
  }

  @Test
  void mixLearnsCpuPerGpuFromGpuTasksOnly() {
    WorkloadMix mix = new WorkloadMix(0.95, 1);
    assertThat(mix.cpuPerGpuMilli()).isZero();
    mix.observe(new TaskClass(8000, 1000, 1, 0)); // 8 CPU milli per milli-GPU
    mix.observe(new TaskClass(4000, 500, 1, 0)); // 8 as well
    mix.observe(new TaskClass(64_000, 0, 0, 0)); // CPU only: ignored
    assertThat(mix.cpuPerGpuMilli()).isCloseTo(8.0, within(1e-9));
    mix.observe(new TaskClass(12_000, 1000, 2, 0)); // 24000 CPU over 3500 milli in total
    assertThat(mix.cpuPerGpuMilli()).isCloseTo(24_000.0 / 3500, within(1e-9));
    assertThat(WorkloadMix.fixed(List.of(new TaskClass(3000, 1000, 1, 0)), 0.95).cpuPerGpuMilli())
        .isCloseTo(3.0, within(1e-9));
  }
}
