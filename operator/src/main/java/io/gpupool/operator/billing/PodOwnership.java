package io.gpupool.operator.billing;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.RankPlacement;
import io.gpupool.api.v1alpha1.ReplicaStatus;
import io.gpupool.api.v1alpha1.ShardPlacement;
import io.gpupool.api.v1alpha1.TrainingJob;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Whether a pod carrying gpupool labels is one the operator placed for a job, and so may be
 * metered. Anyone allowed to create pods can copy gpupool's labels, an owner reference and billing
 * annotations; only the operator writes a job's status (a subresource tenants are not granted) and
 * its usage records (in its own namespace), so the pod must also be listed there, on the node it
 * runs on, and have terms the operator recorded for it at placement. Pure.
 */
public final class PodOwnership {
  private PodOwnership() {}

  /** Why a pod is or is not metered; the reasons other than {@link #OWNED} label a metric. */
  public enum Verdict {
    OWNED("owned"),
    /** No controlling TrainingJob/InferenceJob owner reference matching its gpupool labels. */
    NO_OWNER("no_owner"),
    /** The owning job does not exist (or exists under another UID). */
    JOB_MISSING("job_missing"),
    /** The job's status does not list this pod on this node. */
    NOT_PLACED("not_placed"),
    /** The operator recorded no billing terms for this pod on this node when placing it. */
    NO_TERMS("no_terms");

    private final String reason;

    Verdict(String reason) {
      this.reason = reason;
    }

    /** The metric label value. */
    public String reason() {
      return reason;
    }
  }

  /**
   * Checks {@code pod}, owned (by its owner reference) by {@code ref}, against the job as it is now
   * ({@code job}, null when it does not exist) and the terms the operator recorded for a pod of
   * this name when it placed it ({@code recorded}, empty when none).
   */
  public static Verdict check(
      Pod pod, JobRef ref, HasMetadata job, Optional<PlacedTerms> recorded) {
    return check(pod, ref, job, recorded, false);
  }

  /**
   * As {@link #check}, for a pod the operator's own step is deleting as one of the job's: that step
   * stands for the status listing, which may never have been written (the leader that created the
   * pod died before writing it, and the step deleting it is the next leader's first look at the
   * job). Everything else is checked as for any pod.
   */
  public static Verdict checkRemoved(
      Pod pod, JobRef ref, HasMetadata job, Optional<PlacedTerms> recorded) {
    return check(pod, ref, job, recorded, true);
  }

  private static Verdict check(
      Pod pod, JobRef ref, HasMetadata job, Optional<PlacedTerms> recorded, boolean removed) {
    if (ref == null) {
      return Verdict.NO_OWNER;
    }
    if (job == null || !ref.uid().equals(job.getMetadata().getUid())) {
      return Verdict.JOB_MISSING;
    }
    String name = pod.getMetadata().getName();
    String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
    if (node == null || !(removed || placed(job, name, node))) {
      return Verdict.NOT_PLACED;
    }
    return recorded.filter(t -> t.appliesOn(node)).isPresent() ? Verdict.OWNED : Verdict.NO_TERMS;
  }

  private static boolean placed(HasMetadata job, String pod, String node) {
    if (job instanceof TrainingJob tj) {
      List<RankPlacement> placements = tj.getStatus() == null ? null : tj.getStatus().placements;
      if (placements != null
          && placements.stream()
              .anyMatch(p -> pod.equals(p.pod) && (p.node == null || node.equals(p.node)))) {
        return true;
      }
      // Spot-check verifiers and referees: charged to the job's payer like its ranks.
      var verification = tj.getStatus() == null ? null : tj.getStatus().verification;
      return verification != null
          && verification.pods != null
          && verification.pods.stream().anyMatch(p -> pod.equals(p.pod) && node.equals(p.node));
    }
    if (job instanceof InferenceJob ij) {
      List<ReplicaStatus> replicas = ij.getStatus() == null ? null : ij.getStatus().replicas;
      return replicas != null
          && replicas.stream()
              .filter(r -> r.shards != null)
              .flatMap(r -> r.shards.stream())
              .anyMatch(s -> matches(s, pod, node));
    }
    return false;
  }

  private static boolean matches(ShardPlacement s, String pod, String node) {
    return pod.equals(s.pod) && Objects.equals(node, s.node);
  }
}
