package io.gpupool.scheduler.plan;

import io.gpupool.scheduler.model.JobKind;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.Strategy;
import java.util.ArrayList;
import java.util.List;

/** Evaluates the strategies a request allows on a fixed set of workers and keeps the best. */
final class StrategyChooser {
  private final DataParallelPlanner dataParallel;
  private final PipelinePlanner pipeline;

  StrategyChooser(DataParallelPlanner dataParallel, PipelinePlanner pipeline) {
    this.dataParallel = dataParallel;
    this.pipeline = pipeline;
  }

  /**
   * The best feasible option (the others listed as its alternatives), or the first infeasible one
   * with every reason. The pipeline search is skipped when even its bound (see {@link
   * PipelinePlanner#boundValue}) cannot beat the data-parallel plan of the same workers (a pipeline
   * over them has the same preferred node weight, so the objective decides).
   */
  EvaluatedPlan best(JobRequest r, List<Worker> workers, String group) {
    List<EvaluatedPlan> options = new ArrayList<>();
    boolean training = r.kind() == JobKind.TRAINING;
    if (r.strategy() != Strategy.PIPELINE_PARALLEL || workers.size() == 1 || !training) {
      options.add(dataParallel.plan(r, workers, group));
    }
    if (r.strategy() != Strategy.DATA_PARALLEL && workers.size() > 1 && training) {
      double bar = 0;
      for (EvaluatedPlan e : options) {
        if (e.feasible()) {
          bar = Math.max(bar, e.value);
        }
      }
      if (bar > 0 && pipeline.boundValue(r, workers) <= bar) {
        options.add(
            EvaluatedPlan.infeasible(
                r,
                group,
                Strategy.PIPELINE_PARALLEL,
                "pipeline bound cannot beat the best plan found"));
      } else {
        options.add(pipeline.plan(r, workers, group));
      }
    }
    EvaluatedPlan best = null;
    for (EvaluatedPlan e : options) {
      if (e.beats(best)) {
        best = e;
      }
    }
    if (best == null) {
      EvaluatedPlan e = options.get(0);
      if (options.size() > 1) {
        e.reason = options.get(0).reason + "; " + options.get(1).reason;
      }
      return e;
    }
    for (EvaluatedPlan e : options) {
      if (e != best) {
        best.alternatives.add(e.rejection());
      }
    }
    return best;
  }
}
