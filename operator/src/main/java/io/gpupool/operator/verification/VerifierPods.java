package io.gpupool.operator.verification;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.PodTemplate;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.operator.podtemplate.PodTemplateMerge;
import io.gpupool.operator.workload.OneShotPods;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The pods that replay a checkpoint interval (verifier) and recompute one step (referee) of a
 * TrainingJob, from the job's own image and script. Pure.
 *
 * <p>The job's script is the first {@code .py} file in its command and args (after {@code torchrun}
 * and its flags); the pod runs {@code python3 <script> <its args>} with the verifier mode's flags
 * (docs/workloads.md, "Commitments"), so that seed, learning rate and the model are the job's. A
 * job whose command names no Python script cannot be spot-checked. The job's {@code spec.template}
 * is merged in (volumes, pull secrets, envFrom, security) except what places or adds pods: node
 * constraints would pin the check to the trainer's nodes, and init containers and sidecars are the
 * training's.
 */
public final class VerifierPods {
  /** Label on verification pods: {@code verifier} or {@code referee}. */
  public static final String ROLE_LABEL = "gpupool.io/verification-role";

  /** Label on verification pods: the TrainingJob they check. */
  public static final String JOB_LABEL = "gpupool.io/verifies";

  static final String CONTAINER = "verify";

  private VerifierPods() {}

  /** The job's script and its arguments, when its command runs one. */
  public static Optional<List<String>> script(TrainingJob job) {
    List<String> line = new ArrayList<>();
    if (job.getSpec().command != null) {
      line.addAll(job.getSpec().command);
    }
    if (job.getSpec().args != null) {
      line.addAll(job.getSpec().args);
    }
    for (int i = 0; i < line.size(); i++) {
      if (line.get(i).endsWith(".py")) {
        return Optional.of(List.copyOf(line.subList(i, line.size())));
      }
    }
    return Optional.empty();
  }

  /** The verifier of the interval (from, to], bound to {@code node}. */
  public static Pod verifier(
      TrainingJob job, List<String> script, String node, long from, long to) {
    List<String> args = new ArrayList<>(script);
    args.addAll(List.of("--verify", from + ":" + to, "--checkpoint-uri", checkpointUri(job)));
    return pod(job, "verifier", name(job, "verify-" + from + "-" + to), node, args);
  }

  /** The referee of {@code step} of {@code rank} in the interval (from, to], bound to node. */
  public static Pod referee(
      TrainingJob job, List<String> script, String node, long from, long to, long step, int rank) {
    List<String> args = new ArrayList<>(script);
    args.addAll(
        List.of(
            "--verify",
            from + ":" + to,
            "--referee",
            Long.toString(step),
            "--rank",
            Integer.toString(rank),
            "--checkpoint-uri",
            checkpointUri(job)));
    return pod(job, "referee", name(job, "referee-" + step + "-r" + rank), node, args);
  }

  private static String checkpointUri(TrainingJob job) {
    if (job.getSpec().checkpoint == null || job.getSpec().checkpoint.uri == null) {
      throw new IllegalArgumentException("spot-checks replay checkpoints: the job has none");
    }
    return job.getSpec().checkpoint.uri;
  }

  private static String name(TrainingJob job, String suffix) {
    return job.getMetadata().getName() + "-" + suffix;
  }

  private static Pod pod(
      TrainingJob job, String role, String name, String node, List<String> args) {
    return PodTemplateMerge.apply(
        bare(job, role, name, node, args), CONTAINER, withoutPlacement(job.getSpec().template));
  }

  private static PodTemplate withoutPlacement(PodTemplate template) {
    if (template == null) {
      return null;
    }
    PodTemplate copy = Serialization.jsonMapper().convertValue(template, PodTemplate.class);
    copy.nodeSelector = null;
    copy.affinity = null;
    copy.tolerations = null;
    copy.initContainers = null;
    copy.sidecars = null;
    return copy;
  }

  private static Pod bare(
      TrainingJob job, String role, String name, String node, List<String> args) {
    // Bound like a gang's ranks: the operator chose the node (another provider).
    return OneShotPods.bound(
        job.getMetadata().getNamespace(),
        name,
        Map.of(ROLE_LABEL, role, JOB_LABEL, job.getMetadata().getName()),
        node,
        1,
        new ContainerBuilder()
            .withName(CONTAINER)
            .withImage(job.getSpec().image)
            .withCommand("python3")
            .withArgs(args)
            .build());
  }
}
