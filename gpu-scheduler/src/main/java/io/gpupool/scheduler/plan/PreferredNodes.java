package io.gpupool.scheduler.plan;

import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.model.PreferredNodeTerm;
import java.util.List;

/**
 * A request's preferred node terms, scored as Kubernetes scores preferred node affinity: a node
 * earns the sum of the weights of the terms it matches. The planner honours them before price: a
 * node's ranking key is lowered by {@link #KEY_STEP} per unit of weight (far more than any price or
 * reliability term), and among feasible plans the one with the most preferred weight per GPU wins
 * ({@link #of}), goodput per price deciding among equals. A preference never lets a node past a
 * filter, so it cannot make a request unplaceable nor split a gang.
 */
final class PreferredNodes {
  /**
   * What one unit of preferred weight is worth in a candidate's key. Keys are prices per effective
   * TFLOP/s normalised by the pool mean (about 1) plus penalties of the same order, so a million
   * keeps the weight first and price second whatever the pool.
   */
  static final double KEY_STEP = 1e6;

  private PreferredNodes() {}

  /** The summed weight of the request's preferred terms that {@code node} matches (0 when none). */
  static int weight(JobRequest r, PoolSnapshot snap, PoolNode node) {
    List<PreferredNodeTerm> terms = r.preferredNodes();
    if (terms.isEmpty()) {
      return 0;
    }
    var labels = snap.nodeLabels().of(node.name());
    int sum = 0;
    for (PreferredNodeTerm t : terms) {
      if (t.term().matches(node.name(), labels)) {
        sum += t.weight();
      }
    }
    return sum;
  }

  /**
   * A plan's preferred weight: each worker's node weight times its GPUs in thousandths, summed. A
   * gang of whole GPUs all on nodes of weight w scores w × 1000 × GPUs; summing (rather than
   * averaging) keeps a plan that starts more of an elastic job's workers on preferred nodes ahead
   * of a smaller one.
   */
  static long of(List<Worker> ws) {
    long sum = 0;
    for (Worker w : ws) {
      sum += (long) w.preferred() * w.gpus().length * w.milli();
    }
    return sum;
  }
}
