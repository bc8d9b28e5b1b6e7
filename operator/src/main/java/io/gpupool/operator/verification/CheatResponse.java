package io.gpupool.operator.verification;

import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.api.v1alpha1.TrainingVerificationStatus;
import io.gpupool.operator.billing.EvidenceHash;
import io.gpupool.operator.billing.FraudDisputes;
import io.gpupool.operator.billing.JobRef;
import io.gpupool.operator.job.JobStep;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.trust.TrustLedger;
import io.gpupool.operator.trust.VerifiedCondition;
import io.gpupool.scheduler.verify.FraudEvidence;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * What the operator does once a spot-check proves a provider cheated: its nodes under the gang are
 * quarantined, the fraud is disputed on chain for this job (or the stake slashed directly when
 * there is nothing to dispute), and the check's cursor is rewound to the last verified checkpoint
 * the gang resumes from.
 */
final class CheatResponse {
  private static final Logger LOG = Logger.getLogger(CheatResponse.class);

  private final TrustLedger trust;
  private final FraudDisputes fraud;
  private final EventRecorder events;
  private final VerificationMetrics metrics;

  CheatResponse(
      TrustLedger trust, FraudDisputes fraud, EventRecorder events, VerificationMetrics metrics) {
    this.trust = trust;
    this.fraud = fraud;
    this.events = events;
    this.metrics = metrics;
  }

  /** Quarantines the cheat's nodes, disputes on chain, and rewinds the cursor. */
  SpotCheckRunner.Cheat respond(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      TrainingVerificationStatus v,
      SpotCheckRunner.Trainer cheat,
      List<SpotCheckRunner.Trainer> trainers,
      FraudEvidence evidence,
      String reason,
      String what) {
    TrainingJob job = s.job;
    Set<String> nodes = new LinkedHashSet<>();
    for (SpotCheckRunner.Trainer t : trainers) {
      if (t.provider().equals(cheat.provider())) {
        nodes.add(t.node());
        trust.quarantineForWork(
            t.node(),
            t.provider(),
            t.gpuProduct(),
            "training spot-check of " + s.ref() + ": " + what);
      }
    }
    EvidenceHash hash = EvidenceHash.sha256(evidence.bytes());
    v.disputes++;
    fileDispute(job, cheat.provider(), hash, what);
    long resume = v.lastVerifiedCheckpoint;
    v.pendingCheckpoints.clear();
    v.checkedThrough = resume;
    String message =
        String.format(
            Locale.ROOT,
            "provider %s cheated (%s); its node(s) %s quarantined, dispute filed with evidence %s…;"
                + " the gang resumes from the last verified checkpoint, step %d",
            cheat.provider(),
            what,
            String.join(", ", nodes),
            hash.hex().substring(0, 18),
            resume);
    s.condition(VerifiedCondition.TYPE, false, reason, message);
    events.record(job, EventRecorder.WARNING, reason, message);
    LOG.warnf("%s: %s", s.ref(), message);
    return new SpotCheckRunner.Cheat(cheat.provider(), nodes, resume, message);
  }

  private void fileDispute(TrainingJob job, String provider, EvidenceHash hash, String what) {
    JobRef ref =
        new JobRef(
            "TrainingJob",
            job.getMetadata().getNamespace(),
            job.getMetadata().getName(),
            job.getMetadata().getUid());
    fraud
        .proveOrSlash(ref, provider, hash, "training spot-check: " + what)
        .thenAccept(
            outcome -> {
              metrics.disputed(VerificationMetrics.TRAINING, outcome.filing().outcome());
              events.record(
                  job,
                  outcome.punished() ? EventRecorder.NORMAL : EventRecorder.WARNING,
                  "SpotCheckDispute",
                  provider + ": " + outcome.describe());
            });
  }

  static String jobId(TrainingJob job) {
    return job.getMetadata().getNamespace()
        + "/"
        + job.getMetadata().getName()
        + " "
        + job.getMetadata().getUid();
  }
}
