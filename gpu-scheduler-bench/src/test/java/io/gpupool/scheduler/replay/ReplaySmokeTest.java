package io.gpupool.scheduler.replay;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplaySmokeTest {
  @TempDir Path dir;

  @Test
  void replaysASmallTraceWithEveryPolicy() throws Exception {
    Path nodes = dir.resolve("nodes.csv");
    Files.writeString(
        nodes,
        "sn,cpu_milli,memory_mib,gpu,model\n"
            + "n0,32000,131072,8,G2\nn1,32000,131072,2,T4\nn2,16000,65536,4,T4\nn3,8000,32768,1,P100\n");
    Path pods = dir.resolve("pods.csv");
    Files.writeString(
        pods,
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\n"
            + "p0,4000,8192,1,1000,\np1,2000,4096,1,500,\np2,2000,4096,1,300,T4\n"
            + "p3,8000,16384,4,1000,\np4,1000,1024,0,0,\np5,2000,4096,2,1000,G2|T4\n");
    List<TraceNode> n = TraceReader.nodes(nodes);
    List<TracePod> p = TraceReader.pods(pods);
    assertThat(p.get(5).allowedModels()).containsExactly("G2", "T4");
    for (String policy : Policies.NAMES) {
      Replay.Result r = Replay.run(n, p, policy, 42);
      // Inflation to 1.3 × 15 GPUs of demand, every pod got one attempt.
      assertThat(r.placed() + r.failed()).isGreaterThanOrEqualTo(p.size());
      double u = r.at(100);
      if (!Double.isNaN(u)) {
        assertThat(u).isBetween(0.0, 100.0);
      }
      // Over-allocation would have thrown inside ReplayCluster.place.
    }
  }

  @Test
  void sameSeedSameResult() throws Exception {
    Path nodes = Path.of("/work/shared/traces/alibaba-gpu-v2023/openb_node_list_gpu_node.csv");
    if (!Files.exists(nodes)) {
      return;
    }
    List<TraceNode> n = TraceReader.nodes(nodes).subList(0, 120);
    List<TracePod> p =
        TraceReader.pods(nodes.resolveSibling("openb_pod_list_default.csv")).subList(0, 600);
    Replay.Result a = Replay.run(n, p, "gpupool", 7);
    Replay.Result b = Replay.run(n, p, "gpupool", 7);
    assertThat(a.placed()).isEqualTo(b.placed());
    assertThat(a.at(100)).isEqualTo(b.at(100));
  }
}
