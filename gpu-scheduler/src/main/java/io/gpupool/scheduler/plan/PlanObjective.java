package io.gpupool.scheduler.plan;

import io.gpupool.scheduler.model.JobKind;
import io.gpupool.scheduler.model.LinkModel;
import io.gpupool.scheduler.model.Locality;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What plans are compared by: goodput per unit of price, and the score breakdown a plan carries.
 */
final class PlanObjective {
  private final SchedulerConfig config;

  PlanObjective(SchedulerConfig config) {
    this.config = config;
  }

  /** Price per hour of the workers' GPUs (fractions pro rata). */
  static double price(List<Worker> ws) {
    double p = 0;
    for (Worker w : ws) {
      p += w.node().pricePerGpuHour() * w.gpus().length * w.milli() / 1000.0;
    }
    return p;
  }

  /**
   * Goodput per unit of price; goodput itself when everything is free. A training gang stalls when
   * any of its nodes fails, so expected restarts add up over its nodes; inference replicas fail
   * alone, so each replica's share is discounted by its own node, spreading replicas over more
   * providers earns a small bonus, and so do replicas on nodes that already hold their weights
   * ({@link WarmWeights}, the mean over the workers).
   */
  double value(double throughput, List<Worker> ws, double price, JobKind kind) {
    double goodput;
    if (kind == JobKind.TRAINING) {
      goodput = throughput * Math.max(0.01, 1 - expectedRestarts(ws) * config.restartLossHours());
    } else {
      double avail = 0;
      double warmth = 0;
      Set<String> providers = new HashSet<>();
      for (Worker w : ws) {
        avail += Math.max(0.01, 1 - (1 - w.node().reliability()) * config.restartLossHours());
        warmth += w.warmth();
        providers.add(w.node().provider());
      }
      goodput =
          throughput
              * avail
              / ws.size()
              * (1 + 0.02 * config.spreadWeight() * (providers.size() - 1))
              * (1 + warmth / ws.size());
    }
    return price > 0 ? goodput / price : goodput * 1e6;
  }

  /** The score breakdown a plan carries (see {@link Plan#score}). */
  static Map<String, Double> scoreOf(List<Worker> ws, double price, double value) {
    Map<String, Double> score = new LinkedHashMap<>();
    score.put("pricePerHour", price);
    score.put("expectedRestartsPerHour", expectedRestarts(ws));
    score.put("worstLocality", (double) worstLocality(ws).ordinal());
    score.put("value", value);
    long warm = ws.stream().filter(w -> w.warmth() > 0).count();
    if (warm > 0) {
      score.put("warmWorkers", (double) warm);
    }
    long preferred = PreferredNodes.of(ws);
    if (preferred > 0) {
      score.put("preferredWeight", preferred / 1000.0);
    }
    return score;
  }

  /** The slowest link between any two workers (the ring all-reduce runs at its pace). */
  LinkModel.Link slowestLink(List<Worker> ws) {
    LinkModel links = config.links();
    LinkModel.Link worst = links.link(Locality.SAME_NODE);
    for (int i = 0; i < ws.size(); i++) {
      for (int j = i + 1; j < ws.size(); j++) {
        LinkModel.Link l = links.between(ws.get(i).node(), ws.get(j).node());
        if (l.bandwidthGBs() < worst.bandwidthGBs()) {
          worst = l;
        }
      }
    }
    return worst;
  }

  /** Σ (1 − reliability) over the distinct nodes: expected node failures per hour. */
  private static double expectedRestarts(List<Worker> ws) {
    Set<String> nodes = new HashSet<>();
    double restarts = 0;
    for (Worker w : ws) {
      if (nodes.add(w.node().name())) {
        restarts += 1 - w.node().reliability();
      }
    }
    return restarts;
  }

  private static Locality worstLocality(List<Worker> ws) {
    Locality worst = Locality.SAME_NODE;
    for (Worker w : ws) {
      Locality l = Locality.between(ws.get(0).node(), w.node());
      if (l.ordinal() > worst.ordinal()) {
        worst = l;
      }
    }
    return worst;
  }
}
