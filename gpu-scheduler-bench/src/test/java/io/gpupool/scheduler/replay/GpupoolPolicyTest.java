package io.gpupool.scheduler.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.scheduler.frag.ModelBits;
import io.gpupool.scheduler.frag.TaskClass;
import java.util.List;
import org.junit.jupiter.api.Test;

class GpupoolPolicyTest {
  private final ModelBits bits = new ModelBits();

  private ReplayPod pod(long cpu, int milli, int id) {
    TracePod tp = new TracePod("p" + id, cpu, 1024, 1, milli, List.of());
    return new ReplayPod(tp, Replay.taskClass(tp, bits), 1024, id);
  }

  @Test
  void sendsACpuHeavyPodWhereItStrandsNoGpus() {
    // Same GPUs; the first node has 6 cores per GPU, the second 16.
    ReplayCluster c =
        new ReplayCluster(
            List.of(
                new TraceNode("poor", 48_000, 1 << 20, 8, "G2"),
                new TraceNode("rich", 128_000, 1 << 20, 8, "G2")),
            bits);
    ReplayPolicy gpupool = Policies.create("gpupool", 1, List.of());
    ReplayPolicy fgd = Policies.create("FGD", 1, List.of(new TaskClass(8000, 1000, 1, 0)));
    // The workload so far: one GPU with 8 cores each (8 CPU milli per milli-GPU).
    for (int i = 0; i < 20; i++) {
      gpupool.arrived(pod(8000, 1000, 0));
    }
    // 24 cores for one GPU: on "poor" the 24 cores left feed 3 of its 7 free GPUs, yet a typical
    // task still fits there, so FGD alone sees no difference and takes the first node.
    ReplayPod heavy = pod(24_000, 1000, 1);
    gpupool.arrived(heavy);
    assertThat(c.names[gpupool.choose(c, heavy).node()]).isEqualTo("rich");
    assertThat(c.names[fgd.choose(c, heavy).node()]).isEqualTo("poor");
  }
}
