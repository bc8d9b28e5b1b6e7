package io.gpupool.scheduler.replay;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Command line: {@code ReplayMain --nodes FILE --pods FILE [--policy NAME[,NAME...]] [--seeds
 * 42-51]}. Prints progress to stderr, then a table of unallocated GPU % by arrived % (mean over
 * seeds) per policy and one {@code unallocated_at_100 <policy>=<mean>} line per policy.
 */
public final class ReplayMain {
  private ReplayMain() {}

  public static void main(String[] args) throws Exception {
    Path nodesFile = null;
    Path podsFile = null;
    List<String> policies = Policies.NAMES;
    long[] seeds = range("42-51");
    double inflation = 1.3;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--nodes" -> nodesFile = Path.of(args[++i]);
        case "--pods" -> podsFile = Path.of(args[++i]);
        case "--policy", "--policies" -> policies = Arrays.asList(args[++i].split(","));
        case "--seeds" -> seeds = range(args[++i]);
        case "--inflation" -> inflation = Double.parseDouble(args[++i]);
        case "-h", "--help" -> {
          usage();
          return;
        }
        default -> {
          System.err.println("unknown argument " + args[i]);
          usage();
          System.exit(2);
        }
      }
    }
    if (nodesFile == null || podsFile == null) {
      usage();
      System.exit(2);
    }
    for (String p : policies) {
      if (!Policies.NAMES.contains(p)) {
        System.err.println("unknown policy " + p + "; known: " + String.join(",", Policies.NAMES));
        System.exit(2);
      }
    }
    List<TraceNode> nodes = TraceReader.nodes(nodesFile);
    List<TracePod> pods = TraceReader.pods(podsFile);
    Map<String, double[]> mean = new LinkedHashMap<>();
    Map<String, List<Double>> at100 = new LinkedHashMap<>();
    Map<String, List<FreeCapacity>> freeAt100 = new LinkedHashMap<>();
    int runs = policies.size() * seeds.length;
    int done = 0;
    long start = System.nanoTime();
    for (String policy : policies) {
      double[] sum = new double[Replay.MAX_ARRIVED + 1];
      int[] cnt = new int[Replay.MAX_ARRIVED + 1];
      List<Double> heads = new ArrayList<>();
      for (long seed : seeds) {
        long t0 = System.nanoTime();
        Replay.Result r = Replay.run(nodes, pods, policy, seed, inflation);
        for (int a = 0; a <= Replay.MAX_ARRIVED; a++) {
          if (!Double.isNaN(r.lastAt()[a])) {
            sum[a] += r.lastAt()[a];
            cnt[a]++;
          }
        }
        heads.add(r.at(100));
        if (r.freeAt100() != null) {
          freeAt100.computeIfAbsent(policy, k -> new ArrayList<>()).add(r.freeAt100());
        }
        done++;
        System.err.printf(
            Locale.ROOT,
            "[%d/%d] %s seed %d: unallocated at 100%% = %.2f (placed %d, failed %d) in %.1fs%n",
            done,
            runs,
            policy,
            seed,
            r.at(100),
            r.placed(),
            r.failed(),
            (System.nanoTime() - t0) / 1e9);
      }
      double[] m = new double[sum.length];
      for (int a = 0; a < m.length; a++) {
        m[a] = cnt[a] == seeds.length ? sum[a] / cnt[a] : Double.NaN;
      }
      mean.put(policy, m);
      at100.put(policy, heads);
    }
    System.err.printf(Locale.ROOT, "total %.1fs%n", (System.nanoTime() - start) / 1e9);
    print(mean, at100, freeAt100);
  }

  private static void print(
      Map<String, double[]> mean,
      Map<String, List<Double>> at100,
      Map<String, List<FreeCapacity>> freeAt100) {
    StringBuilder h = new StringBuilder("arrived%");
    for (String p : mean.keySet()) {
      h.append(String.format(Locale.ROOT, "%12s", p));
    }
    System.out.println("# unallocated GPU % by arrived GPU demand % (mean over seeds)");
    System.out.println(h);
    for (int a = 0; a <= Replay.MAX_ARRIVED; a++) {
      if (a % 10 != 0 && !(a >= 90 && a <= 100 && a % 2 == 0)) {
        continue;
      }
      boolean any = false;
      StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%8d", a));
      for (double[] m : mean.values()) {
        any |= !Double.isNaN(m[a]);
        row.append(
            Double.isNaN(m[a])
                ? String.format("%12s", "-")
                : String.format(Locale.ROOT, "%12.2f", m[a]));
      }
      if (any) {
        System.out.println(row);
      }
    }
    for (Map.Entry<String, List<Double>> e : at100.entrySet()) {
      double avg =
          e.getValue().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
      double sd =
          Math.sqrt(
              e.getValue().stream().mapToDouble(v -> (v - avg) * (v - avg)).sum()
                  / Math.max(1, e.getValue().size() - 1));
      System.out.printf(Locale.ROOT, "# %s at 100%%: sd over seeds %.2f%n", e.getKey(), sd);
    }
    for (Map.Entry<String, List<FreeCapacity>> e : freeAt100.entrySet()) {
      System.out.printf(
          Locale.ROOT,
          "# %s free at 100%% (%% of GPUs, mean over seeds): %s%n",
          e.getKey(),
          mean(e.getValue()));
    }
    for (Map.Entry<String, List<Double>> e : at100.entrySet()) {
      double avg =
          e.getValue().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
      System.out.printf(Locale.ROOT, "unallocated_at_100 %s=%.2f%n", e.getKey(), avg);
    }
  }

  /** The mean of each bucket; the commonest remainder is the one most seeds agree on. */
  private static FreeCapacity mean(List<FreeCapacity> l) {
    Map<Integer, Integer> votes = new java.util.HashMap<>();
    for (FreeCapacity f : l) {
      votes.merge(f.commonestRemainder(), 1, Integer::sum);
    }
    int top = votes.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    double n = l.size();
    return new FreeCapacity(
        l.stream().mapToDouble(FreeCapacity::wholeGpus).sum() / n,
        l.stream().mapToDouble(FreeCapacity::under100).sum() / n,
        l.stream().mapToDouble(FreeCapacity::from100to199).sum() / n,
        l.stream().mapToDouble(FreeCapacity::from200to499).sum() / n,
        l.stream().mapToDouble(FreeCapacity::from500to999).sum() / n,
        top,
        l.stream()
                .filter(f -> f.commonestRemainder() == top)
                .mapToDouble(FreeCapacity::commonestShare)
                .sum()
            / n);
  }

  static long[] range(String s) {
    List<Long> out = new ArrayList<>();
    for (String part : s.split(",")) {
      String[] ab = part.split("-");
      long a = Long.parseLong(ab[0].trim());
      long b = ab.length > 1 ? Long.parseLong(ab[1].trim()) : a;
      for (long x = a; x <= b; x++) {
        out.add(x);
      }
    }
    return out.stream().mapToLong(Long::longValue).toArray();
  }

  private static void usage() {
    System.err.println(
        "usage: ReplayMain --nodes FILE --pods FILE [--policy NAME[,NAME...]] [--seeds 42-51]"
            + " [--inflation 1.3]\n  policies: "
            + String.join(",", Policies.NAMES));
  }
}
