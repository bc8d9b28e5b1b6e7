package io.gpupool.scheduler.bench;

import io.gpupool.scheduler.verify.DetectionOdds;
import io.gpupool.scheduler.verify.IntervalReport;
import io.gpupool.scheduler.verify.IntervalSampler;
import io.gpupool.scheduler.verify.RefereeVerdict;
import io.gpupool.scheduler.verify.SpotCheck;
import io.gpupool.scheduler.verify.StepDistance;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Training spot-checks: verification overhead (extra GPU time) against the probability of catching
 * a provider that skips steps, simulated over gpu-scheduler's verify/ protocol (a fresh sampling
 * secret per job, the real judgement, bisection and referee verdict) and set beside the analytic 1
 * - (1 - r)^c.
 *
 * <p>Each simulated job has 100 checkpoint intervals of 10 steps with a commitment every step; the
 * cheater skips one optimizer step in c of its intervals (chosen at random, unknown to the
 * sampler). A sampled interval costs its 10 steps again on the verifier; a mismatch adds the
 * referee's one step. Distances are the measured ones (docs/workloads.md): 1e-16 for honest steps,
 * 0.14 from the skipped step on.
 *
 * <p>{@code ./gpupool bench-verification [JOBS]}
 */
public final class SpotCheckBench {
  static final int INTERVALS = 100;
  static final int STEPS_PER_INTERVAL = 10;
  static final double TOLERANCE = 1e-4;

  private SpotCheckBench() {}

  /** One simulated job: caught or not, and the verifier and referee steps spent. */
  record Outcome(boolean caught, long verifierSteps, long refereeSteps, int firstCaughtInterval) {}

  static Outcome simulate(double rate, int cheated, Random random, SecureRandom secrets) {
    byte[] secret = new byte[32];
    secrets.nextBytes(secret);
    IntervalSampler sampler = new IntervalSampler(secret, rate);
    BitSet cheatedIntervals = new BitSet(INTERVALS);
    while (cheatedIntervals.cardinality() < cheated) {
      cheatedIntervals.set(random.nextInt(INTERVALS));
    }
    long verifierSteps = 0;
    long refereeSteps = 0;
    int first = -1;
    for (int i = 0; i < INTERVALS; i++) {
      long from = (long) i * STEPS_PER_INTERVAL;
      if (!sampler.sampled("bench/job", from)) {
        continue;
      }
      verifierSteps += STEPS_PER_INTERVAL;
      int skipped = cheatedIntervals.get(i) ? 1 + random.nextInt(STEPS_PER_INTERVAL) : -1;
      List<StepDistance> distances = new ArrayList<>();
      for (int s = 1; s <= STEPS_PER_INTERVAL; s++) {
        boolean off = skipped > 0 && s >= skipped;
        distances.add(new StepDistance(from + s, off ? 0.14 : 1e-16));
      }
      SpotCheck.Judgement j =
          SpotCheck.judge(
              new IntervalReport(from, from + STEPS_PER_INTERVAL, distances, true), TOLERANCE);
      if (j.outcome() == SpotCheck.Outcome.MISMATCH) {
        refereeSteps += 1;
        RefereeVerdict v = RefereeVerdict.decide(j.step(), 0.14, 1.2e-16, TOLERANCE);
        if (v.outcome() == RefereeVerdict.Outcome.PROVIDER_AT_FAULT && first < 0) {
          first = i;
        }
      }
    }
    return new Outcome(first >= 0, verifierSteps, refereeSteps, first);
  }

  public static void main(String[] args) {
    int jobs = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    Random random = new Random(42);
    SecureRandom secrets = new SecureRandom();
    double[] rates = {0.01, 0.05, 0.1, 0.2, 0.5, 1.0};
    int[] cheats = {1, 5, 10, 30};
    System.out.printf(
        Locale.ROOT,
        "%d simulated jobs per row, %d intervals of %d steps, tolerance %.0e%n%n",
        jobs,
        INTERVALS,
        STEPS_PER_INTERVAL,
        TOLERANCE);
    System.out.println(
        "| sample rate | cheated intervals | detected (simulated) | detected (1-(1-r)^c) |"
            + " extra GPU time | mean interval of detection |");
    System.out.println("|---|---|---|---|---|---|");
    long started = System.nanoTime();
    for (double rate : rates) {
      for (int c : cheats) {
        int caught = 0;
        long verifier = 0;
        long referee = 0;
        long firstSum = 0;
        for (int j = 0; j < jobs; j++) {
          Outcome o = simulate(rate, c, random, secrets);
          verifier += o.verifierSteps();
          referee += o.refereeSteps();
          if (o.caught()) {
            caught++;
            firstSum += o.firstCaughtInterval();
          }
        }
        double trainingSteps = (double) jobs * INTERVALS * STEPS_PER_INTERVAL;
        System.out.printf(
            Locale.ROOT,
            "| %.2f | %d | %.3f | %.3f | %.1f %% | %s |%n",
            rate,
            c,
            caught / (double) jobs,
            DetectionOdds.detection(rate, c),
            100 * (verifier + referee) / trainingSteps,
            caught == 0 ? "-" : String.format(Locale.ROOT, "%.1f", firstSum / (double) caught));
      }
    }
    System.out.printf(Locale.ROOT, "%nconfidence 95 %% / 99 %% needs this many cheated intervals:");
    for (double rate : rates) {
      System.out.printf(
          Locale.ROOT,
          " r=%.2f: %d / %d;",
          rate,
          DetectionOdds.intervalsForConfidence(rate, 0.95),
          DetectionOdds.intervalsForConfidence(rate, 0.99));
    }
    System.out.printf(Locale.ROOT, "%n%.1f s%n", (System.nanoTime() - started) / 1e9);
  }
}
