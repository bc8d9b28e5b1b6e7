package io.gpupool.scheduler.plan;

import static io.gpupool.scheduler.plan.Worker.GIB;

import io.gpupool.scheduler.model.JobKind;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.LinkModel;
import io.gpupool.scheduler.model.ModelSpec;
import io.gpupool.scheduler.model.Strategy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Data parallel (and independent inference replicas): every worker holds the whole model; a
 * training step splits the batch in proportion to the workers' rates, then a ring all-reduce runs
 * at the pace of the slowest link.
 */
final class DataParallelPlanner {
  private final PlanObjective objective;

  DataParallelPlanner(PlanObjective objective) {
    this.objective = objective;
  }

  EvaluatedPlan plan(JobRequest r, List<Worker> ws, String group) {
    EvaluatedPlan e = new EvaluatedPlan(r, group, Strategy.DATA_PARALLEL);
    e.workers = ws;
    ModelSpec m = r.model();
    boolean training = r.kind() == JobKind.TRAINING;
    double totalRate = 0;
    for (Worker w : ws) {
      double need = m.stateBytes(r.kind()) + m.layerActivationBytesPerSample(r.kind()) * m.layers();
      if (need > w.memBytes()) {
        e.reason =
            String.format(
                Locale.ROOT,
                "data parallel needs %.1f GiB per worker (whole model%s), %s has %.1f GiB",
                need / GIB,
                training ? " with Adam state" : "",
                w.node().name(),
                w.memBytes() / GIB);
        return e;
      }
      totalRate += w.rate();
    }
    double compute = m.stepFlops(r.kind()) / totalRate;
    int n = ws.size();
    double comm = 0;
    if (training && n > 1) {
      LinkModel.Link l = objective.slowestLink(ws);
      comm =
          2.0 * (n - 1) / n * m.gradientBytes() / (l.bandwidthGBs() * 1e9)
              + 2.0 * (n - 1) * l.latencySeconds();
    }
    e.step = compute + comm;
    e.throughput = m.batch() / e.step;
    e.price = PlanObjective.price(ws);
    e.value = objective.value(e.throughput, ws, e.price, r.kind());
    List<RankPlacement> ranks = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Worker w = ws.get(i);
      ranks.add(
          w.rank(i, training ? 0 : i, 0, 0, m.layers() - 1, training ? w.rate() / totalRate : 1.0));
    }
    Map<String, Double> score = PlanObjective.scoreOf(ws, e.price, e.value);
    score.put("computeSeconds", compute);
    score.put("allReduceSeconds", comm);
    e.plan =
        new Plan(
            r.id(),
            e.strategy,
            ranks,
            e.step,
            e.throughput,
            e.price,
            score,
            List.of(),
            List.of(),
            r);
    return e;
  }
}
