package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.api.v1alpha1.RankPlacement;
import io.gpupool.api.v1alpha1.ReplicaStatus;
import io.gpupool.api.v1alpha1.ShardPlacement;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import java.math.BigInteger;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Only pods the operator placed for a job are metered. */
class PodOwnershipTest {
  static final JobRef REF = new JobRef("TrainingJob", "team-a", "train", "uid-1");

  static TrainingJob training(String uid, String pod, String node) {
    TrainingJob job = new TrainingJob();
    job.setMetadata(
        new ObjectMetaBuilder().withName("train").withNamespace("team-a").withUid(uid).build());
    job.setStatus(new TrainingJobStatus());
    RankPlacement p = new RankPlacement();
    p.rank = 0;
    p.pod = pod;
    p.node = node;
    job.getStatus().placements = List.of(p);
    return job;
  }

  static final PlacementTerms TERMS = new PlacementTerms(BigInteger.TEN, 1000);

  /** The terms the operator recorded for a pod it placed on {@code node}. */
  static Optional<PlacedTerms> recorded(String node) {
    return Optional.of(new PlacedTerms(node, "alice", TERMS));
  }

  static Pod pod(String name, String node, boolean terms) {
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace("team-a")
            .endMetadata()
            .withNewSpec()
            .withNodeName(node)
            .endSpec()
            .build();
    return terms ? TERMS.writeOn(pod) : pod;
  }

  @Test
  void aPodListedInItsJobsPlacementsOnItsNodeWithTermsIsOwned() {
    assertThat(
            PodOwnership.check(
                pod("train-worker-0", "n1", true),
                REF,
                training("uid-1", "train-worker-0", "n1"),
                recorded("n1")))
        .isEqualTo(PodOwnership.Verdict.OWNED);
  }

  @Test
  void forgedPodsAreNot() {
    TrainingJob job = training("uid-1", "train-worker-0", "n1");
    assertThat(PodOwnership.check(pod("train-worker-0", "n1", true), null, job, recorded("n1")))
        .isEqualTo(PodOwnership.Verdict.NO_OWNER);
    assertThat(PodOwnership.check(pod("train-worker-0", "n1", true), REF, null, recorded("n1")))
        .isEqualTo(PodOwnership.Verdict.JOB_MISSING);
    assertThat(
            PodOwnership.check(
                pod("train-worker-0", "n1", true),
                REF,
                training("uid-2", "train-worker-0", "n1"),
                recorded("n1")))
        .as("a job re-created under the same name")
        .isEqualTo(PodOwnership.Verdict.JOB_MISSING);
    assertThat(PodOwnership.check(pod("extra", "n1", true), REF, job, recorded("n1")))
        .isEqualTo(PodOwnership.Verdict.NOT_PLACED);
    assertThat(PodOwnership.check(pod("train-worker-0", "n2", true), REF, job, recorded("n1")))
        .as("same name on another node")
        .isEqualTo(PodOwnership.Verdict.NOT_PLACED);
    assertThat(PodOwnership.check(pod("train-worker-0", "n1", false), REF, job, Optional.empty()))
        .as("no terms recorded by the operator")
        .isEqualTo(PodOwnership.Verdict.NO_TERMS);
    assertThat(PodOwnership.check(pod("train-worker-0", "n1", true), REF, job, Optional.empty()))
        .as("terms on the pod's annotations only: anyone who may edit the pod wrote them")
        .isEqualTo(PodOwnership.Verdict.NO_TERMS);
    assertThat(PodOwnership.check(pod("train-worker-0", "n1", true), REF, job, recorded("n2")))
        .as("terms recorded for a pod of that name on another node")
        .isEqualTo(PodOwnership.Verdict.NO_TERMS);
    TrainingJob noStatus = training("uid-1", "x", "n1");
    noStatus.setStatus(null);
    assertThat(PodOwnership.check(pod("train-worker-0", "n1", true), REF, noStatus, recorded("n1")))
        .isEqualTo(PodOwnership.Verdict.NOT_PLACED);
  }

  @Test
  void inferenceShardsAreMatchedByPodAndNode() {
    InferenceJob job = new InferenceJob();
    job.setMetadata(
        new ObjectMetaBuilder().withName("serve").withNamespace("team-a").withUid("u9").build());
    job.setStatus(new InferenceJobStatus());
    ReplicaStatus r = new ReplicaStatus();
    ShardPlacement s = new ShardPlacement();
    s.pod = "serve-0-abcde-0";
    s.node = "n1";
    r.shards = List.of(s);
    job.getStatus().replicas = List.of(r);
    JobRef ref = new JobRef("InferenceJob", "team-a", "serve", "u9");
    assertThat(PodOwnership.check(pod("serve-0-abcde-0", "n1", true), ref, job, recorded("n1")))
        .isEqualTo(PodOwnership.Verdict.OWNED);
    assertThat(PodOwnership.check(pod("serve-0-abcde-1", "n1", true), ref, job, recorded("n1")))
        .isEqualTo(PodOwnership.Verdict.NOT_PLACED);
  }

  /**
   * A pod the operator's own step deletes as the job's needs no listing (its creator may have died
   * before writing one), but everything else still: the job's owner reference and UID, a node, and
   * terms recorded at placement on that node.
   */
  @Test
  void aPodTheOperatorRemovesNeedsNoListingButEverythingElse() {
    InferenceJob job = new InferenceJob();
    job.setMetadata(
        new ObjectMetaBuilder().withName("serve").withNamespace("team-a").withUid("u9").build());
    job.setStatus(new InferenceJobStatus());
    JobRef ref = new JobRef("InferenceJob", "team-a", "serve", "u9");
    Pod unlisted = pod("serve-0-abcde-0", "n1", true);
    assertThat(PodOwnership.check(unlisted, ref, job, recorded("n1")))
        .as("merely seen: not placed")
        .isEqualTo(PodOwnership.Verdict.NOT_PLACED);
    assertThat(PodOwnership.checkRemoved(unlisted, ref, job, recorded("n1")))
        .isEqualTo(PodOwnership.Verdict.OWNED);
    assertThat(PodOwnership.checkRemoved(unlisted, null, job, recorded("n1")))
        .isEqualTo(PodOwnership.Verdict.NO_OWNER);
    assertThat(
            PodOwnership.checkRemoved(
                unlisted, new JobRef("InferenceJob", "team-a", "serve", "u8"), job, recorded("n1")))
        .as("owned by an earlier job of that name")
        .isEqualTo(PodOwnership.Verdict.JOB_MISSING);
    assertThat(PodOwnership.checkRemoved(unlisted, ref, job, Optional.empty()))
        .isEqualTo(PodOwnership.Verdict.NO_TERMS);
    assertThat(PodOwnership.checkRemoved(unlisted, ref, job, recorded("n2")))
        .as("terms recorded for that name on another node")
        .isEqualTo(PodOwnership.Verdict.NO_TERMS);
    assertThat(
            PodOwnership.checkRemoved(pod("serve-0-abcde-0", null, true), ref, job, recorded("n1")))
        .as("never bound to a node")
        .isEqualTo(PodOwnership.Verdict.NOT_PLACED);
  }
}
