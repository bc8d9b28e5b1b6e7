package io.gpupool.e2e.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** How bench-queues follows its jobs from watch events and reports a run that did not finish. */
class QueueBenchFollowingTest {

  private final AtomicLong nanos = new AtomicLong();
  private final JobTally tally = new JobTally(nanos::get);

  @Test
  void eachJobCountsOnceAsWaitingAdmittedAndFinishedHoweverManyEventsItSends() {
    TrainingJob waiting = job("a", "False", null, null);
    tally.onAdd(waiting);
    tally.onUpdate(waiting, waiting);
    assertThat(tally.waiting()).isEqualTo(1);
    assertThat(tally.admitted()).isZero();

    nanos.set(5_000_000_000L);
    TrainingJob admitted = job("a", "True", "2026-12-07T10:00:05Z", TrainingJobPhase.Running);
    tally.onUpdate(waiting, admitted);
    // preempted and re-admitted later: still one admission, stamped the first time
    nanos.set(9_000_000_000L);
    tally.onUpdate(admitted, job("a", "False", null, TrainingJobPhase.Pending));
    tally.onUpdate(admitted, job("a", "True", "2026-12-07T10:00:09Z", TrainingJobPhase.Running));
    TrainingJob done = job("a", "True", "2026-12-07T10:00:09Z", TrainingJobPhase.Succeeded);
    tally.onUpdate(admitted, done);
    tally.onUpdate(done, done);

    assertThat(tally.waiting()).isEqualTo(1);
    assertThat(tally.admitted()).isEqualTo(1);
    assertThat(tally.finished()).isEqualTo(1);
    assertThat(tally.admissionNanos()).containsExactly(5_000_000_000L);
    assertThat(tally.admissionConditionTimes())
        .containsExactly(Instant.parse("2026-12-07T10:00:05Z"));
  }

  @Test
  void aJobFirstSeenFinishedCountsAsAdmittedWithoutAConditionTime() {
    // its Admitted=True was never delivered (watch events of one object may be coalesced)
    tally.onAdd(job("b", null, null, TrainingJobPhase.Succeeded));
    assertThat(tally.admitted()).isEqualTo(1);
    assertThat(tally.finished()).isEqualTo(1);
    assertThat(tally.admissionConditionTimes()).isEmpty();
  }

  @Test
  void theBestWindowCountsTheAdmissionsOfItsDensestTenSeconds() {
    long s = 1_000_000_000L;
    // 3 in the first second; 5 from 20 s to 29 s and 5 from 22 s to 31 s; 20 s to 31 s is 11 s
    long[] at = {0, s / 2, s, 20 * s, 22 * s, 25 * s, 28 * s, 29 * s, 31 * s};
    assertThat(JobTally.bestRate(at, 10 * s)).isEqualTo(0.5);
    assertThat(JobTally.bestRate(new long[0], 10 * s)).isZero();
  }

  @Test
  void anUnfinishedRunStillPrintsItsTableOnceWithWhatItMeasured() {
    QueueRunReport report = new QueueRunReport(3, 2, Map.of("consumer", 4), "0.50");
    report.tally = tally;
    report.createSeconds = 1.5;
    report.openNanos = 0;
    report.opened = Instant.parse("2026-12-07T10:00:00Z");
    report.sample(
        """
        jvm_memory_used_bytes{area="heap",id="G1 Eden Space"} 1.048576E8
        jvm_memory_used_bytes{area="heap",id="G1 Old Gen"} 5.24288E7
        jvm_memory_used_bytes{area="nonheap",id="Metaspace"} 9.9E9
        jvm_gc_live_data_size_bytes 4.194304E7
        """);
    nanos.set(4_000_000_000L);
    tally.onAdd(job("a", "True", "2026-12-07T10:00:04Z", TrainingJobPhase.Running));
    TrainingJob failed = job("f", "True", "2026-12-07T10:00:04Z", TrainingJobPhase.Failed);
    failed
        .getStatus()
        .conditions
        .add(
            new ConditionBuilder()
                .withType("Failed")
                .withStatus("True")
                .withReason("BackoffLimitExceeded")
                .build());
    tally.onAdd(failed);
    tally.onUpdate(failed, failed);
    assertThat(tally.failed()).isEqualTo(1);
    report.stoppedBecause = "time limit";

    String table = print(report);
    assertThat(table)
        .contains("| run ended | time limit |")
        .contains("| admitted (Admitted=True seen at least once) | 2 |")
        .contains("| failed | 1 bench-team-0/f (BackoffLimitExceeded) |")
        .contains("| time until every job succeeded or failed | not reached |")
        .contains(
            "| time-to-admit from opening, p50 / p99 (condition timestamps, 1 s resolution) | 4 / 4 s |")
        .contains("| operator heap used, highest sample / live after GC, highest | 150 / 40 MiB |");
    assertThat(print(report)).as("printed once only").isEmpty();
  }

  @Test
  void theCommandLineTakesJobsNodesAndATimeLimitInMinutes() {
    var o = QueueLoadBench.Options.parse("2000", "--max-minutes", "12.5", "1000");
    assertThat(o.jobs()).isEqualTo(2000);
    assertThat(o.nodes()).isEqualTo(1000);
    assertThat(o.limit()).isEqualTo(Duration.ofSeconds(750));
    assertThat(QueueLoadBench.Options.parse().limit())
        .isEqualTo(Duration.ofMinutes(QueueLoadBench.DEFAULT_MAX_MINUTES));
    assertThatThrownBy(() -> QueueLoadBench.Options.parse("--max-minutes", "0"))
        .hasMessageContaining("must be positive");
    assertThatThrownBy(() -> QueueLoadBench.Options.parse("--minutes", "3"))
        .hasMessageContaining("unknown option --minutes");
  }

  private static String print(QueueRunReport report) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    report.printOnce(new PrintStream(bytes, true, StandardCharsets.UTF_8), "1.0");
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private static TrainingJob job(
      String name, String admitted, String transition, TrainingJobPhase phase) {
    TrainingJob j = new TrainingJob();
    j.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("bench-team-0").build());
    TrainingJobStatus s = new TrainingJobStatus();
    s.phase = phase;
    List<io.fabric8.kubernetes.api.model.Condition> conditions = new ArrayList<>();
    if (admitted != null) {
      conditions.add(
          new ConditionBuilder()
              .withType("Admitted")
              .withStatus(admitted)
              .withLastTransitionTime(transition)
              .build());
    }
    s.conditions = conditions;
    j.setStatus(s);
    return j;
  }
}
