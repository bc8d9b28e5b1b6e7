package io.gpupool.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.e2e.chaos.Violation.Kind;
import java.util.List;
import java.util.Optional;
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
    t.heapAtEnd(Optional.of("40 MiB → 41 MiB"));

    assertThat(t.faults("API", false)).isEqualTo(3);
    assertThat(t.faults("API", true)).isEqualTo(3);
    assertThat(t.faults("RPC", false)).isEqualTo(4);
    assertThat(t.faultCount("RPC", "rpc-timeout")).isEqualTo(4);
    assertThat(t.faultCount("RPC", "rpc-outage")).as("never counted").isZero();
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

  @Test
  void exitsZeroOnlyWhenEveryInvariantHeldAndTheHeapWasReadAtTheEnd() {
    ChaosTally clean = new ChaosTally();
    clean.sample(List.of());
    clean.atEnd(List.of());
    assertThat(clean.exitCode()).as("no end heap reading yet").isEqualTo(2);
    clean.heapAtEnd(Optional.of("35 MiB → 37 MiB"));
    assertThat(clean.exitCode()).isZero();

    ChaosTally brokenInSample = new ChaosTally();
    brokenInSample.sample(List.of(new Violation(Kind.GPU_OVERCOMMIT, "node-a: 9 of 8 GPUs")));
    brokenInSample.atEnd(List.of());
    brokenInSample.heapAtEnd(Optional.of("35 MiB → 37 MiB"));
    assertThat(brokenInSample.exitCode()).isEqualTo(1);

    ChaosTally brokenAtEnd = new ChaosTally();
    brokenAtEnd.atEnd(List.of(new Violation(Kind.NOT_FINAL, "default/chaos-3 Running")));
    brokenAtEnd.heapAtEnd(Optional.empty());
    assertThat(brokenAtEnd.exitCode()).isEqualTo(1);
  }

  @Test
  void aFailedOrLateHeapReadingNeverReplacesAGoodOneOrTheEndReading() {
    ChaosTally t = new ChaosTally();
    t.heap(Optional.of("35 MiB → 36 MiB"));
    t.heap(Optional.empty());
    assertThat(t.table()).contains("| operator heap start → end | 35 MiB → 36 MiB |");
    t.heapAtEnd(Optional.of("35 MiB → 38 MiB"));
    t.heap(Optional.of("35 MiB → 99 MiB")); // a sample that was still in flight
    assertThat(t.table()).contains("| operator heap start → end | 35 MiB → 38 MiB |");

    ChaosTally unread = new ChaosTally();
    unread.heap(Optional.of("35 MiB → 36 MiB"));
    unread.heapAtEnd(Optional.empty());
    assertThat(unread.table()).contains("not read at the end (last sample: 35 MiB → 36 MiB)");
    assertThat(unread.exitCode()).isEqualTo(2);

    ChaosTally why = new ChaosTally();
    why.heap(Optional.of("35 MiB → 36 MiB"));
    why.heapAtEnd(Optional.empty(), "chaos-replica-7: java.net.SocketTimeoutException");
    assertThat(why.table())
        .contains(
            "not read at the end (chaos-replica-7: java.net.SocketTimeoutException; last sample:"
                + " 35 MiB → 36 MiB)");
  }
}
