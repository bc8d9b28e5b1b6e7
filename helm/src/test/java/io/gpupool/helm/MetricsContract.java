package io.gpupool.helm;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names the operator exports and the dashboards and alerts may use
 * (docs/observability.md), and a small PromQL reader that lists the metric names an expression
 * selects.
 */
final class MetricsContract {
  /** Operator metrics: gauges and counters, by their exposed names. */
  static final Set<String> OPERATOR_SERIES =
      Set.of(
          "gpupool_pool_gpus",
          "gpupool_pool_nodes",
          "gpupool_provider_reliability_score",
          "gpupool_jobs",
          "gpupool_job_estimated_throughput",
          "gpupool_job_restarts_total",
          "gpupool_job_recoveries_total",
          "gpupool_metered_gpu_seconds_total",
          "gpupool_metered_cost_total",
          "gpupool_settled_amount_total",
          "gpupool_settlement_backlog_pairs",
          "gpupool_settlement_backlog_amount",
          "gpupool_settlement_pairs_set_aside",
          "gpupool_settlement_oldest_unconfirmed_seconds",
          "gpupool_settlement_job_pairs_set_aside",
          "gpupool_settlement_pairs_held_unregistered",
          "gpupool_settlement_transactions_total",
          "gpupool_settlement_unexpected_failures_total",
          "gpupool_chain_rpc_errors_total",
          "gpupool_escrow_balance",
          "gpupool_reconcile_errors_total",
          "gpupool_queue_pending_workloads",
          "gpupool_queue_admitted_workloads",
          "gpupool_queue_gpus_in_use",
          "gpupool_queue_gpus_borrowed",
          "gpupool_queue_oldest_pending_created_seconds",
          "gpupool_queue_admissions_total",
          "gpupool_queue_preemptions_total",
          "gpupool_challenges_total",
          "gpupool_quarantined_nodes",
          "gpupool_verification_intervals_total",
          "gpupool_verification_disputes_total",
          "gpupool_verification_gpu_seconds_total",
          "gpupool_operator_leader",
          "gpupool_inference_replicas_desired",
          "gpupool_inference_replicas_ready",
          "gpupool_inference_inflight_requests",
          "gpupool_inference_inflight_requests_per_replica",
          "gpupool_inference_inflight_requests_target",
          "gpupool_inference_scale_events_total",
          "gpupool_inference_cache_hits_total",
          "gpupool_inference_cache_misses_total");

  /** Operator histograms; each is exposed as _bucket, _count and _sum series. */
  static final Set<String> OPERATOR_HISTOGRAMS =
      Set.of(
          "gpupool_job_queue_wait_seconds",
          "gpupool_scheduling_latency_seconds",
          "gpupool_settlement_transaction_duration_seconds",
          "gpupool_reconcile_duration_seconds",
          "gpupool_queue_admission_wait_seconds",
          "gpupool_queue_admission_cycle_seconds");

  /** dcgm-exporter's metrics the GPU health dashboard uses. */
  static final Set<String> DCGM =
      Set.of(
          "DCGM_FI_DEV_GPU_UTIL",
          "DCGM_FI_DEV_FB_USED",
          "DCGM_FI_DEV_FB_FREE",
          "DCGM_FI_DEV_GPU_TEMP",
          "DCGM_FI_DEV_POWER_USAGE",
          "DCGM_FI_DEV_XID_ERRORS",
          "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE");

  /** Prometheus's own scrape health. */
  static final Set<String> PROMETHEUS = Set.of("up");

  private static final Set<String> KEYWORDS =
      Set.of(
          // aggregations and their modifiers
          "sum",
          "min",
          "max",
          "avg",
          "group",
          "stddev",
          "stdvar",
          "count",
          "count_values",
          "bottomk",
          "topk",
          "quantile",
          "limitk",
          "limit_ratio",
          "by",
          "without",
          // binary operators and modifiers
          "and",
          "or",
          "unless",
          "on",
          "ignoring",
          "group_left",
          "group_right",
          "bool",
          "offset",
          "atan2",
          // literals
          "inf",
          "nan");

  private static final Pattern STRING =
      Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'");
  private static final Pattern LABEL_MATCHERS = Pattern.compile("\\{[^}]*}");
  private static final Pattern RANGE = Pattern.compile("\\[[^]]*]");
  private static final Pattern GROUPING =
      Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_:][A-Za-z0-9_:]*");
  private static final Pattern GRAFANA_VARIABLE = Pattern.compile("\\$\\{?[A-Za-z0-9_]+}?");

  private MetricsContract() {}

  static boolean allowed(String metric) {
    if (OPERATOR_SERIES.contains(metric) || DCGM.contains(metric) || PROMETHEUS.contains(metric)) {
      return true;
    }
    return OPERATOR_HISTOGRAMS.stream()
        .anyMatch(h -> List.of(h + "_bucket", h + "_count", h + "_sum").contains(metric));
  }

  /** Every metric defined by the contract, histograms by their base name. */
  static Set<String> all() {
    Set<String> all = new LinkedHashSet<>();
    all.addAll(OPERATOR_SERIES);
    all.addAll(OPERATOR_HISTOGRAMS);
    all.addAll(DCGM);
    all.addAll(PROMETHEUS);
    return all;
  }

  /** The contract name a selected series belongs to (a histogram's base name for its series). */
  static String contractName(String metric) {
    for (String h : OPERATOR_HISTOGRAMS) {
      if (metric.equals(h + "_bucket")
          || metric.equals(h + "_count")
          || metric.equals(h + "_sum")) {
        return h;
      }
    }
    return metric;
  }

  /**
   * The metric names a PromQL expression selects: identifiers that are not functions (followed by
   * "("), keywords, label names (inside {} or by/on clauses) or durations.
   */
  static Set<String> metricsIn(String promql) {
    String expr = GRAFANA_VARIABLE.matcher(promql).replaceAll("5m");
    expr = STRING.matcher(expr).replaceAll("\"\"");
    expr = LABEL_MATCHERS.matcher(expr).replaceAll(" ");
    expr = RANGE.matcher(expr).replaceAll(" ");
    expr = GROUPING.matcher(expr).replaceAll(" ");
    Set<String> metrics = new LinkedHashSet<>();
    Matcher m = IDENTIFIER.matcher(expr);
    while (m.find()) {
      String word = m.group();
      int next = m.end();
      while (next < expr.length() && Character.isWhitespace(expr.charAt(next))) {
        next++;
      }
      boolean function = next < expr.length() && expr.charAt(next) == '(';
      boolean afterDigit = m.start() > 0 && Character.isDigit(expr.charAt(m.start() - 1));
      if (!function && !afterDigit && !KEYWORDS.contains(word.toLowerCase())) {
        metrics.add(word);
      }
    }
    // {__name__="x"} selects x too.
    Matcher byName = Pattern.compile("__name__\\s*=\\s*\"([^\"]+)\"").matcher(promql);
    while (byName.find()) {
      metrics.add(byName.group(1));
    }
    return metrics;
  }
}
