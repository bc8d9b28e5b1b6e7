package io.gpupool.operator.trust;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/**
 * Hardware challenges ({@code gpupool.trust.challenge.*}, {@code GPUPOOL_TRUST_CHALLENGE_*}): when
 * they run, how big they are, and how their timing is judged. Off by default; the Helm chart's
 * {@code trust.challenge.*} values set them, and the sandbox turns them on.
 */
@ConfigMapping(prefix = "gpupool.trust.challenge")
public interface ChallengeConfig {
  /** Challenge nodes when they join and at random times after. */
  @WithDefault("false")
  boolean enabled();

  /**
   * Mean time between two challenges of one node after its first (exponentially distributed, so a
   * provider cannot predict the next one).
   */
  @WithDefault("6h")
  Duration meanInterval();

  /**
   * Most share of the pool's GPU time random challenges may take (over the last hour); challenges
   * of joining nodes always run.
   */
  @WithDefault("0.02")
  double budget();

  /** Most challenges running at once. */
  @WithDefault("4")
  int maxConcurrent();

  /** Side of the challenge's matrices (8..2048): the operator recomputes a few n³ products. */
  @WithDefault("512")
  int size();

  /**
   * Compute time a challenge should take on the claimed product; rounds are sized to it (at most
   * 240, so on fast GPUs the start-up allowance dominates: docs/trust.md). Long enough against the
   * start-up allowance that a late answer can be re-rated: target × (1 / floor − tolerance) must
   * exceed the allowance (45 s × 2.4 = 108 s against 60 s; ChallengeDefaultsTest).
   */
  @WithDefault("45s")
  Duration target();

  /** Rounds the operator recomputes to check an answer. */
  @WithDefault("4")
  int samples();

  /** Share of the datasheet TFLOP/s the challenge program reaches (calibration). */
  @WithDefault("0.4")
  double efficiency();

  /** Factor over the expected compute time still accepted. */
  @WithDefault("1.6")
  double tolerance();

  /**
   * The least share of the claimed product's speed a correctly answering node may be rated at
   * instead of quarantined (docs/trust.md, "Speed correction"): a node slower than its claim but
   * above this share is planned and priced at the speed measured; below it (an RTX 3090 claiming an
   * H100 computes at 7 %), or slower again than its rating, it is quarantined as a cheat. 1 turns
   * correction off (every slow answer is quarantined).
   */
  @WithDefault("0.25")
  double speedCorrectionFloor();

  /** Time allowed for the challenge pod to be created and started, on top of compute time. */
  @WithDefault("60s")
  Duration startupAllowance();

  /** Image with examples/workloads/challenge.py. */
  @WithDefault("ghcr.io/gpupool/workloads:0.1")
  String image();

  /** Namespace of challenge pods; default POD_NAMESPACE, else the client's namespace. */
  Optional<String> namespace();

  /**
   * Commit-then-open (docs/trust.md): the challenge program commits to every product's digest with
   * a Merkle root, served over HTTP on the pod's IP, and opens the {@link #samples()} leaves the
   * operator draws after the root arrived; the operator recomputes only those. Off: the program
   * answers with every digest in its termination message (at most 240 rounds). Needs the operator
   * to reach pod IPs on {@link #openingPort()}: a pod network does by default, and the chart's
   * NetworkPolicy admits it. On by default, as in the chart.
   */
  @WithDefault("true")
  boolean openings();

  /**
   * Time a node has, from the operator's request, to open the leaves asked for; openings not served
   * in it are a failed opening (fraud evidence, as a wrong result).
   */
  @WithDefault("10s")
  Duration openingWindow();

  /** Port the challenge program serves its commitment and openings on. */
  @WithDefault("8471")
  int openingPort();

  /** How often running challenges are looked at and due ones started. */
  @WithDefault("1s")
  Duration tick();
}
