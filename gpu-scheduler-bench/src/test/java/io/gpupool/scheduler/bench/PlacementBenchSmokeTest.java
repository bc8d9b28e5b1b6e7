package io.gpupool.scheduler.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;

/** Runs the speed and quality harnesses on tiny inputs: they work, not how fast (no timing). */
class PlacementBenchSmokeTest {
  @Test
  void harnessesRunAndPrintTheirTables() {
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf));
    try {
      PlacementBench.main(new String[] {"--nodes", "200", "--placements", "50", "--warmup", "10"});
      PlanQualityBench.row(
          new io.gpupool.scheduler.model.ModelSpec(1_300_000_000L, 24, 2, 0, 2048, 64),
          4,
          io.gpupool.scheduler.model.LinkModel.defaults()
              .link(io.gpupool.scheduler.model.Locality.SAME_ZONE),
          io.gpupool.scheduler.model.Locality.SAME_ZONE,
          io.gpupool.scheduler.model.GpuCatalog.defaults(),
          0.4,
          20);
    } finally {
      System.setOut(old);
    }
    String out = buf.toString();
    assertThat(out).contains("| 200 | 50 |");
    assertThat(out).contains("| 1.3B/24L | 4 | SAME_ZONE | 20 feasible of 20 |");
  }
}
