package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** What the spot-checks of a TrainingJob found so far, and what they cost. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class TrainingVerificationStatus {
  /** Checkpoint intervals the sampler chose for a replay (each is verified, failed or running). */
  public Integer sampledIntervals;

  /** Checkpoint intervals replayed within tolerance. */
  public Integer verifiedIntervals;

  /** Checkpoint intervals whose replay differed beyond tolerance (refereed). */
  public Integer failedIntervals;

  /** Disputes filed against the job's providers after a referee confirmed a mismatch. */
  public Integer disputes;

  /**
   * Step of the latest checkpoint up to which every interval was replayed and found matching (an
   * unsampled interval stops it: what follows descends from unchecked work); a caught cheat's job
   * resumes from it.
   */
  public Long lastVerifiedCheckpoint;

  /** Every interval up to this checkpoint step has been decided (sampled and checked, or not). */
  public Long checkedThrough;

  /** Committed checkpoint steps seen after {@link #checkedThrough}, waiting for their decision. */
  public List<Long> pendingCheckpoints;

  /** Verifier and referee pods run for this job (metered and charged to its payer). */
  public List<VerificationPod> pods;

  /**
   * Set when a proven cheat moved the job and no replacement fitted yet: the checkpoint step the
   * next gang resumes from (the last verified one).
   */
  public Long rewindTo;

  /** GPU-seconds of verifier and referee pods, a decimal string; charged apart from usage. */
  public String gpuSeconds;
}
