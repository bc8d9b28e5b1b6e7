package io.gpupool.scheduler.queue;

import static io.gpupool.scheduler.queue.AdmissionOrderTest.A100;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Measured fairness: queues of one cohort with saturated demand, jobs of different sizes and
 * lengths, no preemption. Each tick some jobs end, the book runs a cycle; the share of the cohort's
 * GPUs each queue holds is averaged over the run.
 */
class FairShareTest {
  private static final int TICKS = 3000;
  private static final int WARM_UP = 200;
  private static final int GPUS_PER_QUEUE = 64;

  record Team(String name, double weight, int jobGpus) {}

  static Map<String, Double> simulate(List<Team> teams, long seed) {
    AdmissionBook book = new AdmissionBook();
    // The teams own no quota: all GPUs belong to a lender queue with no work of its own, so
    // every GPU a team holds is borrowed and only the fair-share order decides who gets it.
    int total = GPUS_PER_QUEUE * teams.size();
    book.putQueue(QueueDefinition.of("lender", "cohort", List.of(Quota.of("a100", A100, total))));
    for (Team t : teams) {
      book.putQueue(
          QueueDefinition.of(t.name(), "cohort", List.of(Quota.of("a100", A100, 0)))
              .withWeight(t.weight())
              .withPreemption(WithinQueuePreemption.NEVER, CohortReclaim.NEVER));
    }
    Random random = new Random(seed);
    Map<String, Integer> endsAt = new HashMap<>();
    Map<String, Double> gpuTicks = new HashMap<>();
    long arrival = 0;
    for (int tick = 0; tick < TICKS; tick++) {
      for (Team t : teams) {
        // Saturated: every queue always has more waiting than the whole cohort could run.
        while (book.usage().stream()
                .filter(u -> u.queue().equals(t.name()))
                .mapToInt(QueueUsage::pending)
                .sum()
            < 2 * total / t.jobGpus()) {
          book.offer(Workload.of(t.name() + "-" + arrival, t.name(), 0, arrival++, t.jobGpus()));
        }
      }
      final int now = tick;
      List<String> ended = new ArrayList<>();
      endsAt.forEach(
          (id, end) -> {
            if (end <= now) {
              ended.add(id);
            }
          });
      ended.forEach(
          id -> {
            endsAt.remove(id);
            book.finish(id);
          });
      for (Admission a : book.cycle(tick).admitted()) {
        endsAt.put(a.workloadId(), tick + 5 + random.nextInt(40));
      }
      if (tick >= WARM_UP) {
        for (QueueUsage u : book.usage()) {
          if (u.queue().equals("lender")) {
            continue;
          }
          gpuTicks.merge(u.queue(), (double) u.inUse().getOrDefault("a100", 0), Double::sum);
        }
      }
    }
    Map<String, Double> shares = new HashMap<>();
    gpuTicks.forEach((q, sum) -> shares.put(q, sum / ((TICKS - WARM_UP) * (double) total)));
    return shares;
  }

  @Test
  void equalWeightsGiveEqualSharesWhateverTheJobSize() {
    List<Team> teams =
        List.of(new Team("ones", 1, 1), new Team("threes", 1, 3), new Team("sevens", 1, 7));
    Map<String, Double> shares = simulate(teams, 42);
    System.out.println("fair share figure (equal weights, fair 0.333): " + shares);
    double used = shares.values().stream().mapToDouble(Double::doubleValue).sum();
    for (Team t : teams) {
      double fair = used / teams.size();
      assertThat(shares.get(t.name()))
          .as("%s share vs fair %.3f", t.name(), fair)
          .isBetween(fair * 0.95, fair * 1.05);
    }
    assertThat(used).as("the cohort stays busy").isGreaterThan(0.9);
  }

  @Test
  void weightsSplitTheCohortInProportion() {
    List<Team> teams =
        List.of(new Team("heavy", 2, 2), new Team("light-1", 1, 3), new Team("light-2", 1, 5));
    Map<String, Double> shares = simulate(teams, 7);
    System.out.println("fair share figure (weights 2:1:1, fair 0.5/0.25/0.25): " + shares);
    double used = shares.values().stream().mapToDouble(Double::doubleValue).sum();
    assertThat(shares.get("heavy")).isBetween(used * 0.5 * 0.95, used * 0.5 * 1.05);
    assertThat(shares.get("light-1")).isBetween(used * 0.25 * 0.95, used * 0.25 * 1.05);
    assertThat(shares.get("light-2")).isBetween(used * 0.25 * 0.95, used * 0.25 * 1.05);
  }
}
