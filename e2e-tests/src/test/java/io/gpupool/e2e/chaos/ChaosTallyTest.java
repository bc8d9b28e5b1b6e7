package io.gpupool.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.e2e.chaos.Violation.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChaosTallyTest {

  @Test
  void countsFailedSamplesByInvariantAndFaultsBySourceAndPrintsThemAll() {
    ChaosTally t = new ChaosTally();
    t.fault("API", "conflict", 3);
    t.fault("API", "watch-gone", 2);
    t.fault("API", "watch-closed", 1);
    t.fault("RPC", "rpc-timeout", 4);
    t.add("jobs submitted", 1);
    t.add("jobs submitted", 1);
    Violation dup = new Violation(Kind.DUPLICATE_RANK, "default/a rank 0: [p, q]");
    t.sample(List.of(dup, new Violation(Kind.DUPLICATE_RANK, "default/b rank 1: [r, s]")));
    t.sample(List.of());
    t.atEnd(List.of(new Violation(Kind.LEDGER_MISMATCH, "0xaa: on chain 1, settled 2")));
    t.heap("40 MiB → 41 MiB");

    assertThat(t.faults("API", false)).isEqualTo(3);
    assertThat(t.faults("API", true)).isEqualTo(3);
    assertThat(t.faults("RPC", false)).isEqualTo(4);
    assertThat(t.samples()).isEqualTo(2);
    assertThat(t.failedSamples(Kind.DUPLICATE_RANK)).as("one sample, two ranks").isEqualTo(1);
    assertThat(t.violations()).hasSize(3).startsWith(dup);
    assertThat(t.table())
        .contains("| fault: API conflict | 3 |")
        .contains("| fault: RPC rpc-timeout | 4 |")
        .contains("| jobs submitted | 2 |")
        .contains("| duplicate-pod samples | 1 |")
        .contains("| ledger mismatches at end | 1 |")
        .contains("| operator heap start → end | 40 MiB → 41 MiB |");
  }
}
