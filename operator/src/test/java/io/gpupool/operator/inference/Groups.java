package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Instant;
import java.util.List;

/** Replica groups of one pod each, for the pure replica tests. */
final class Groups {
  private Groups() {}

  static ReplicaGroup group(int replica, String hash, String phase, boolean ready) {
    return group(replica, hash, phase, ready, "node-" + replica, null);
  }

  static ReplicaGroup group(
      int replica, String hash, String phase, boolean ready, String node, Instant drainingSince) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withName("llm-" + replica)
            .addToLabels(InferenceGroup.SHARD_LABEL, "0")
            .endMetadata()
            .withNewSpec()
            .withNodeName(node)
            .endSpec()
            .withNewStatus()
            .withPhase(phase)
            .addNewCondition()
            .withType("Ready")
            .withStatus(ready ? "True" : "False")
            .endCondition()
            .endStatus();
    if (drainingSince != null) {
      b.editMetadata()
          .addToAnnotations(InferenceGroup.DRAINING_SINCE_ANNOTATION, drainingSince.toString())
          .endMetadata();
    }
    Pod pod = b.build();
    return new ReplicaGroup(replica, "g" + replica, 1, hash, drainingSince != null, List.of(pod));
  }
}
