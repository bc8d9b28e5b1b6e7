package io.gpupool.scheduler.plan;

import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.Strategy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A candidate plan with its objective value, or the reason it is infeasible. */
final class EvaluatedPlan {
  /** At most this many rejected alternatives are reported. */
  static final int MAX_REJECTED = 8;

  final JobRequest request;
  final String group;
  Strategy strategy;
  List<Worker> workers;
  PipelineSplitter.Split split;
  double step;
  double throughput;
  double price;
  double value;
  String reason;
  Plan plan;
  final List<String> alternatives = new ArrayList<>();

  EvaluatedPlan(JobRequest request, String group, Strategy strategy) {
    this.request = request;
    this.group = group;
    this.strategy = strategy;
  }

  /** An infeasible option and why. */
  static EvaluatedPlan infeasible(
      JobRequest request, String group, Strategy strategy, String reason) {
    EvaluatedPlan e = new EvaluatedPlan(request, group, strategy);
    e.reason = reason;
    return e;
  }

  boolean feasible() {
    return plan != null;
  }

  /**
   * The preferred node weight of its workers ({@link PreferredNodes#of}; 0 before they are set).
   */
  long preferred() {
    return workers == null ? 0 : PreferredNodes.of(workers);
  }

  /**
   * True when this option is feasible and better than {@code other} (null or infeasible: any
   * feasible option is): more preferred node weight first, then more goodput per price.
   */
  boolean beats(EvaluatedPlan other) {
    if (!feasible()) {
      return false;
    }
    if (other == null || !other.feasible()) {
      return true;
    }
    long mine = preferred();
    long theirs = other.preferred();
    return mine != theirs ? mine > theirs : value > other.value;
  }

  /** Why this (chosen) option beat {@code other}, as appended to the other's listing. */
  String whyBetter(EvaluatedPlan other) {
    return preferred() > other.preferred()
        ? " (less preferred node weight)"
        : " (lower throughput per cost)";
  }

  /** How this option is listed among the rejected ones. */
  String describe() {
    return String.format(
        Locale.ROOT, "%s on %s: %.3g samples/s for %.2f/h", strategy, group, throughput, price);
  }

  /** The same, or why it was infeasible. */
  String rejection() {
    return plan == null ? strategy + " on " + group + ": " + reason : describe();
  }

  /** Adds {@code s} to {@code rejected} unless it already holds {@link #MAX_REJECTED}. */
  static void note(List<String> rejected, String s) {
    if (rejected.size() < MAX_REJECTED) {
      rejected.add(s);
    }
  }

  /** The plan with its explanation: what was chosen, by which objective, what was rejected. */
  Plan finish(List<String> rejected, boolean shrunk) {
    List<String> why = new ArrayList<>();
    why.add(
        String.format(
            Locale.ROOT,
            "%s over %d worker(s) in %s: est. %.3g samples/s, step %.3g s, %.2f/h.",
            strategy,
            workers.size(),
            group,
            throughput,
            step,
            price));
    why.add(
        "Objective: goodput (throughput × (1 − expected restarts × restart loss)) per unit of"
            + " price per hour; nodes ranked by price per effective TFLOP/s, reliability and"
            + " fragmentation growth against the workload mix learned so far.");
    long preferred = preferred();
    if (preferred > 0) {
      why.add(
          String.format(
              Locale.ROOT,
              "Preferred node affinity: %.3g weight × GPU on preferred nodes, ranked before price.",
              preferred / 1000.0));
    }
    if (shrunk) {
      why.add(
          "Started elastically with "
              + workers.size()
              + " of "
              + request.workers()
              + " workers (minWorkers "
              + request.minWorkers()
              + ").");
    }
    List<String> rej = new ArrayList<>(alternatives);
    for (String s : rejected) {
      note(rej, s);
    }
    return new Plan(
        request.id(),
        strategy,
        plan.ranks(),
        step,
        throughput,
        price,
        plan.score(),
        why,
        rej,
        request);
  }
}
