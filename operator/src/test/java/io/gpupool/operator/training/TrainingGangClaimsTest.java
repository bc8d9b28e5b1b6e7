package io.gpupool.operator.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.RankPlacement;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainingGangClaimsTest {
  @Test
  void placedJobsClaimTheirRanksGpusEndedAndSuspendedOnesNothing() {
    TrainingJob running = job("a", TrainingJobPhase.Running, rank(0, "n1", 2), rank(1, "n1", 1));
    TrainingJob restarting = job("b", TrainingJobPhase.Scheduled, rank(0, "n2", 1));
    TrainingJob done = job("c", TrainingJobPhase.Succeeded, rank(0, "n3", 1));
    TrainingJob suspended = job("d", TrainingJobPhase.Suspended, rank(0, "n3", 1));
    TrainingJob waiting = job("e", TrainingJobPhase.Pending);

    Map<String, Map<String, Integer>> claims =
        TrainingGangClaims.of(List.of(running, restarting, done, suspended, waiting));

    assertThat(claims)
        .isEqualTo(
            Map.of(
                "TrainingJob/team/a", Map.of("n1", 3),
                "TrainingJob/team/b", Map.of("n2", 1)));
  }

  private static TrainingJob job(String name, TrainingJobPhase phase, RankPlacement... ranks) {
    TrainingJob job = new TrainingJob();
    job.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("team").build());
    TrainingJobStatus status = new TrainingJobStatus();
    status.phase = phase;
    status.placements = ranks.length == 0 ? null : List.of(ranks);
    job.setStatus(status);
    return job;
  }

  private static RankPlacement rank(int rank, String node, int gpus) {
    RankPlacement p = new RankPlacement();
    p.rank = rank;
    p.node = node;
    p.gpus = gpus;
    return p;
  }
}
