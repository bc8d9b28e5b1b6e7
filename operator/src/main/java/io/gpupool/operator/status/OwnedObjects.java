package io.gpupool.operator.status;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** What every object a job owns shares: its controller reference and the env merge rule. */
public final class OwnedObjects {
  private OwnedObjects() {}

  /** The controller reference that ties a pod or Service to its job for garbage collection. */
  public static OwnerReference controllerReference(HasMetadata owner) {
    return new OwnerReferenceBuilder()
        .withApiVersion(owner.getApiVersion())
        .withKind(owner.getKind())
        .withName(owner.getMetadata().getName())
        .withUid(owner.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(true)
        .build();
  }

  /**
   * The user's variables, then the operator's; on a name clash the operator's wins, since a wrong
   * rank or group size hangs the whole gang.
   */
  public static List<EnvVar> mergeEnv(List<EnvVar> user, Map<String, String> ours) {
    List<EnvVar> result = new ArrayList<>();
    if (user != null) {
      for (EnvVar v : user) {
        if (!ours.containsKey(v.getName())) {
          result.add(v);
        }
      }
    }
    ours.forEach((k, v) -> result.add(new EnvVar(k, v, null)));
    return result;
  }
}
