package io.gpupool.scheduler.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.gpupool.scheduler.frag.ModelBits;
import java.util.List;
import org.junit.jupiter.api.Test;

class FreeCapacityTest {
  @Test
  void splitsFreeCapacityIntoWholeGpusAndRemaindersBySize() {
    ModelBits bits = new ModelBits();
    ReplayCluster c =
        new ReplayCluster(
            List.of(
                new TraceNode("a", 64_000, 1 << 20, 4, "G2"),
                new TraceNode("b", 64_000, 1 << 20, 1, "T4")),
            bits);
    place(c, bits, 0, 810, 0); // leaves 190
    place(c, bits, 0, 810, 1); // leaves 190
    place(c, bits, 0, 470, 2); // leaves 530
    place(c, bits, 1, 960, 0); // leaves 40
    FreeCapacity f = FreeCapacity.of(c); // 5 GPUs: 500 % of one GPU = 100 %
    assertThat(f.wholeGpus()).isCloseTo(20.0, within(1e-9));
    assertThat(f.under100()).isCloseTo(0.8, within(1e-9));
    assertThat(f.from100to199()).isCloseTo(7.6, within(1e-9));
    assertThat(f.from200to499()).isZero();
    assertThat(f.from500to999()).isCloseTo(10.6, within(1e-9));
    assertThat(f.commonestRemainder()).isEqualTo(530);
    assertThat(f.total()).isCloseTo(100.0 * (5000 - 810 - 810 - 470 - 960) / 5000, within(1e-9));
  }

  private static void place(ReplayCluster c, ModelBits bits, int node, int milli, int gpu) {
    TracePod tp = new TracePod("p", 1000, 1024, 1, milli, List.of());
    c.place(node, new ReplayPod(tp, Replay.taskClass(tp, bits), 1024, 0), new int[] {gpu});
  }
}
