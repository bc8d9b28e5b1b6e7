package io.gpupool.operator.pool;

import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.scheduler.hold.GangHold;
import io.gpupool.scheduler.plan.Scheduler;
import io.gpupool.scheduler.plan.SchedulerConfig;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * The one gpu-scheduler instance of the operator. Training and inference planners share it so the
 * workload mix it learns (and scores fragmentation against) is the whole pool's, not half of it. It
 * is not thread-safe; every call runs under the allocation ledger's lock.
 */
public class SchedulerProducer {
  @Produces
  @Singleton
  Scheduler scheduler(GpupoolConfig config) {
    return new Scheduler(SchedulerConfig.defaults().withMfu(config.planner().mfu()));
  }

  /** The head reservation for gangs outside GpuQueues, on the same scheduler. */
  @Produces
  @Singleton
  GangHold gangHold(Scheduler scheduler, GpupoolConfig config) {
    return new GangHold(scheduler, config.planner().holdAfter());
  }
}
