package io.gpupool.scheduler.bench;

import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.model.JobKind;
import io.gpupool.scheduler.model.LinkModel;
import io.gpupool.scheduler.model.Locality;
import io.gpupool.scheduler.model.ModelSpec;
import io.gpupool.scheduler.plan.PipelineSplitter;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * Pipeline plan quality on mixed GPUs: the exact split's slowest stage against a uniform split
 * (equal layers per stage, same order) and against the lower bound max(total FLOPs / Σ rates,
 * largest layer / fastest GPU). Throughput is 1 / slowest stage; the table shows ratios.
 *
 * <p>{@code java -cp gpu-scheduler/target/classes io.gpupool.scheduler.bench.PlanQualityBench}
 */
public final class PlanQualityBench {
  private PlanQualityBench() {}

  static final String[] MIX = {
    "NVIDIA-GeForce-RTX-3090",
    "NVIDIA-GeForce-RTX-4090",
    "NVIDIA-A100-SXM4-80GB",
    "NVIDIA-H100-80GB-HBM3"
  };

  public static void main(String[] args) {
    GpuCatalog catalog = GpuCatalog.defaults();
    LinkModel links = LinkModel.defaults();
    double mfu = 0.4;
    System.out.println(
        "| model | stages | link between stages | trials | exact / uniform throughput (mean,"
            + " min) | uniform infeasible | bound / exact (mean, min) | bound with links / exact"
            + " (mean, min) | + one layer per GPU / exact (mean, min) |");
    System.out.println("|---|---|---|---|---|---|---|---|---|");
    long[][] models = {{1_300_000_000L, 24}, {7_000_000_000L, 32}, {13_000_000_000L, 40}};
    for (long[] mdl : models) {
      ModelSpec m = new ModelSpec(mdl[0], (int) mdl[1], 2, 0, 2048, 64);
      for (int stages : new int[] {2, 4, 8}) {
        for (Locality loc : new Locality[] {Locality.SAME_ZONE, Locality.CROSS_REGION}) {
          row(m, stages, links.link(loc), loc, catalog, mfu, 200);
        }
      }
    }
  }

  static void row(
      ModelSpec m,
      int stages,
      LinkModel.Link link,
      Locality loc,
      GpuCatalog catalog,
      double mfu,
      int trials) {
    Random rng = new Random(stages * 31L + m.layers());
    int layers = m.layers();
    double[] flops = new double[layers];
    double[] state = new double[layers];
    double[] act = new double[layers];
    Arrays.fill(flops, m.layerFlopsPerSample(JobKind.TRAINING));
    Arrays.fill(state, m.layerStateBytes(JobKind.TRAINING));
    Arrays.fill(act, m.layerActivationBytesPerSample(JobKind.TRAINING));
    double sumUni = 0;
    double minUni = Double.POSITIVE_INFINITY;
    double sumBound = 0;
    double minBound = Double.POSITIVE_INFINITY;
    double sumLink = 0;
    double sumStage = 0;
    double minStage = Double.POSITIVE_INFINITY;
    double minLink = Double.POSITIVE_INFINITY;
    int feasible = 0;
    int uniformInfeasible = 0;
    int uniformCompared = 0;
    for (int t = 0; t < trials; t++) {
      double[] rate = new double[stages];
      double[] mem = new double[stages];
      double[] inFlight = new double[stages];
      double[] transfer = new double[stages];
      for (int s = 0; s < stages; s++) {
        GpuSpec g = catalog.lookup(MIX[rng.nextInt(MIX.length)], 0, null);
        rate[s] = g.denseTflops() * 1e12 * mfu;
        mem[s] = g.memoryMib() * 1024.0 * 1024 * 0.9;
        inFlight[s] = stages - s;
        transfer[s] =
            s + 1 < stages ? 2 * link.transferSeconds(m.boundaryActivationBytesPerSample()) : 0;
      }
      PipelineSplitter.Split best =
          PipelineSplitter.split(flops, state, act, rate, mem, inFlight, transfer);
      if (best == null) {
        continue;
      }
      feasible++;
      double sumRate = Arrays.stream(rate).sum();
      double maxRate = Arrays.stream(rate).max().orElseThrow();
      double bound = Math.max(flops[0] * layers / sumRate, flops[0] / maxRate);
      double ratioBound = bound / best.bottleneckSeconds();
      sumBound += ratioBound;
      minBound = Math.min(minBound, ratioBound);
      // Every stage but the last also sends its activations: the slowest link is a bound too.
      double linkBound = Math.max(bound, Arrays.stream(transfer).max().orElse(0));
      double ratioLink = linkBound / best.bottleneckSeconds();
      sumLink += ratioLink;
      minLink = Math.min(minLink, ratioLink);
      // Every GPU holds at least one layer, so the slowest GPU's single layer is a bound too.
      double minRate = Arrays.stream(rate).min().orElseThrow();
      double stageBound = Math.max(linkBound, flops[0] / minRate);
      double ratioStage = stageBound / best.bottleneckSeconds();
      sumStage += ratioStage;
      minStage = Math.min(minStage, ratioStage);
      double uni = uniform(flops, state, act, rate, mem, inFlight, transfer);
      if (Double.isInfinite(uni)) {
        uniformInfeasible++;
      } else {
        double ratio = uni / best.bottleneckSeconds();
        sumUni += ratio;
        minUni = Math.min(minUni, ratio);
        uniformCompared++;
      }
    }
    System.out.printf(
        Locale.ROOT,
        "| %.1fB/%dL | %d | %s | %d feasible of %d | %s | %d | %s | %s | %s |%n",
        m.parameters() / 1e9,
        layers,
        stages,
        loc,
        feasible,
        trials,
        uniformCompared == 0
            ? "-"
            : String.format(Locale.ROOT, "%.2f×, %.2f×", sumUni / uniformCompared, minUni),
        uniformInfeasible,
        feasible == 0
            ? "-"
            : String.format(Locale.ROOT, "%.3f, %.3f", sumBound / feasible, minBound),
        feasible == 0 ? "-" : String.format(Locale.ROOT, "%.3f, %.3f", sumLink / feasible, minLink),
        feasible == 0
            ? "-"
            : String.format(Locale.ROOT, "%.3f, %.3f", sumStage / feasible, minStage));
  }

  /** Slowest stage of the equal-layers split, +∞ if a stage does not fit its memory. */
  static double uniform(
      double[] flops,
      double[] state,
      double[] act,
      double[] rate,
      double[] mem,
      double[] inFlight,
      double[] transfer) {
    int layers = flops.length;
    int s = rate.length;
    double worst = 0;
    int first = 0;
    for (int i = 0; i < s; i++) {
      int count = layers / s + (i < layers % s ? 1 : 0);
      double f = 0;
      double m = 0;
      for (int l = first; l < first + count; l++) {
        f += flops[l];
        m += state[l] + inFlight[i] * act[l];
      }
      if (m > mem[i]) {
        return Double.POSITIVE_INFINITY;
      }
      worst = Math.max(worst, f / rate[i] + transfer[i]);
      first += count;
    }
    return worst;
  }
}
