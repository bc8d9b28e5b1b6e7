package io.gpupool.scheduler.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.gpupool.scheduler.frag.WorkloadMix;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The workload mix the scheduler learns counts jobs, not planning attempts. */
class LearnedMixTest {
  private static final PoolSnapshot ONE_GPU =
      PoolSnapshot.of(
          List.of(SchedulerTest.node("a", "NVIDIA-GeForce-RTX-4090", 1, 24564, "eu", "eu-a", 0.4)));

  private static JobRequest job(String id, int gpus) {
    return JobRequest.builder(id, SchedulerTest.SMALL).workers(1, gpus).perWorker(1000, 0).build();
  }

  @Test
  void aPendingJobReplannedOnEveryCapacityChangeCountsOnce() {
    Scheduler s = new Scheduler();
    JobRequest waiting = job("TrainingJob/ns/waits", 4); // never fits one GPU
    for (int i = 0; i < 5; i++) {
      assertThat(s.plan(waiting, ONE_GPU)).isInstanceOf(Unplaceable.class);
    }
    assertThat(s.mix().observed()).isEqualTo(1);
    s.plan(job("TrainingJob/ns/other", 1), ONE_GPU);
    assertThat(s.mix().observed()).isEqualTo(2);
  }

  @Test
  void theJobThatWaitsWeighsNoMoreThanTheOneThatRanAtOnce() {
    Scheduler s = new Scheduler();
    JobRequest big = job("big", 4);
    for (int i = 0; i < 9; i++) {
      s.plan(big, ONE_GPU);
    }
    s.plan(job("small", 1), ONE_GPU);
    WorkloadMix.Weighted[] w = s.mix().classes();
    assertThat(w).hasSize(2);
    assertThat(w[0].weight()).isCloseTo(0.5, within(1e-9));
    assertThat(w[1].weight()).isCloseTo(0.5, within(1e-9));
  }

  @Test
  void remembersABoundedNumberOfJobsMostRecentlyPlannedFirst() {
    Scheduler s = new Scheduler(SchedulerConfig.defaults(), 2);
    s.plan(job("a", 1), ONE_GPU);
    s.plan(job("b", 1), ONE_GPU);
    s.plan(job("a", 1), ONE_GPU); // a re-planned: still remembered, now the most recent
    s.plan(job("c", 1), ONE_GPU); // b is forgotten
    assertThat(s.mix().observed()).isEqualTo(3);
    s.plan(job("a", 1), ONE_GPU);
    assertThat(s.mix().observed()).isEqualTo(3);
    s.plan(job("b", 1), ONE_GPU); // forgotten, so it counts again
    assertThat(s.mix().observed()).isEqualTo(4);
  }

  @Test
  void placesACpuHeavyWorkerWhereTheFreeCpuStillFeedsTheFreeGpus() {
    // Same GPUs; "poor" is 1 % cheaper but has 6 cores per GPU, "rich" 16.
    PoolSnapshot pool =
        PoolSnapshot.of(List.of(cpuNode("poor", 48_000, 0.99), cpuNode("rich", 128_000, 1.0)));
    Scheduler s = new Scheduler();
    // The workload so far: one GPU with 8 cores per job.
    for (int i = 0; i < 10; i++) {
      s.plan(JobRequest.builder("seen-" + i, SchedulerTest.SMALL).perWorker(8000, 0).build(), pool);
    }
    assertThat(s.mix().cpuPerGpuMilli()).isCloseTo(8.0, within(1e-9));
    // 24 cores: on "poor" the 24 cores left would feed 3 of its 7 free GPUs, although a typical
    // job would still fit there (so FGD's measure alone sees no difference and price decides).
    JobRequest heavy =
        JobRequest.builder("heavy", SchedulerTest.SMALL).perWorker(24_000, 0).build();
    Plan p = (Plan) s.plan(heavy, pool);
    assertThat(p.ranks().get(0).node()).isEqualTo("rich");
    assertThat(p.score()).isNotEmpty();
  }

  private static PoolNode cpuNode(String name, long cpuMillis, double price) {
    return new PoolNode(
        name,
        "prov",
        "eu",
        "eu-a",
        "NVIDIA-A100-SXM4-80GB",
        8,
        81920,
        1,
        cpuMillis,
        1 << 20,
        price,
        0.99,
        true);
  }

  @Test
  void arrivalsNeverHoldMoreKeysThanTheirCapacity() {
    JobArrivals arrivals = new JobArrivals(3);
    for (int i = 0; i < 100; i++) {
      assertThat(arrivals.firstSighting("job-" + i)).isTrue();
      assertThat(arrivals.remembered()).isLessThanOrEqualTo(3);
    }
    assertThat(arrivals.firstSighting("job-99")).isFalse();
    assertThat(arrivals.firstSighting("job-0")).isTrue();
  }
}
