package io.gpupool.operator.verification;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.gpupool.api.v1alpha1.Checkpoint;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.Parallelism;
import io.gpupool.api.v1alpha1.PodTemplate;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VerifierPodsTest {

  static TrainingJob job(List<String> command, List<String> args) {
    TrainingJob job = new TrainingJob();
    job.setMetadata(new ObjectMetaBuilder().withName("ddp").withNamespace("team-a").build());
    TrainingJobSpec spec = new TrainingJobSpec();
    spec.image = "ghcr.io/gpupool/workloads:0.1";
    spec.command = command;
    spec.args = args;
    spec.parallelism = new Parallelism();
    spec.parallelism.workers = 2;
    spec.model = new ModelSpec();
    spec.model.parameters = "1M";
    spec.model.layers = 2;
    spec.checkpoint = new Checkpoint();
    spec.checkpoint.uri = "s3://runs/ddp";
    job.setSpec(spec);
    return job;
  }

  private static final TrainingJob DDP =
      job(
          List.of("torchrun"),
          List.of("--redirects", "2", "/workloads/ddp_train.py", "--steps", "60", "--seed", "7"));

  @Test
  void theScriptIsTheFirstPythonFileAndItsArguments() {
    assertThat(VerifierPods.script(DDP))
        .contains(List.of("/workloads/ddp_train.py", "--steps", "60", "--seed", "7"));
    assertThat(VerifierPods.script(job(List.of("python3", "train.py"), null)))
        .contains(List.of("train.py"));
    assertThat(VerifierPods.script(job(List.of("/bin/trainer"), List.of("--fast")))).isEmpty();
  }

  @Test
  void theVerifierReplaysTheIntervalWithTheJobsScriptOnTheChosenNode() {
    List<String> script = VerifierPods.script(DDP).orElseThrow();
    Pod pod = VerifierPods.verifier(DDP, script, "eu-west-4090-2", 10, 20);
    assertThat(pod.getMetadata().getName()).isEqualTo("ddp-verify-10-20");
    assertThat(pod.getMetadata().getNamespace()).isEqualTo("team-a");
    assertThat(pod.getMetadata().getLabels())
        .containsEntry(VerifierPods.ROLE_LABEL, "verifier")
        .containsEntry(VerifierPods.JOB_LABEL, "ddp");
    assertThat(pod.getSpec().getNodeName()).isEqualTo("eu-west-4090-2");
    assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
    var c = pod.getSpec().getContainers().get(0);
    assertThat(c.getImage()).isEqualTo("ghcr.io/gpupool/workloads:0.1");
    assertThat(c.getCommand()).containsExactly("python3");
    assertThat(c.getArgs())
        .containsExactly(
            "/workloads/ddp_train.py", "--steps", "60", "--seed", "7", "--verify", "10:20");
    assertThat(c.getEnv())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getName()).isEqualTo("GPUPOOL_CHECKPOINT_URI");
              assertThat(e.getValue()).isEqualTo("s3://runs/ddp");
            });
    assertThat(c.getResources().getRequests()).containsEntry("nvidia.com/gpu", new Quantity("1"));
  }

  @Test
  void theRefereeRecomputesOneStepOfOneRank() {
    List<String> script = VerifierPods.script(DDP).orElseThrow();
    Pod pod = VerifierPods.referee(DDP, script, "ap-south-4090-1", 10, 20, 13, 1);
    assertThat(pod.getMetadata().getName()).isEqualTo("ddp-referee-13-r1");
    assertThat(pod.getMetadata().getLabels()).containsEntry(VerifierPods.ROLE_LABEL, "referee");
    assertThat(pod.getSpec().getContainers().get(0).getArgs())
        .containsSubsequence("--verify", "10:20", "--referee", "13", "--rank", "1");
  }

  @Test
  void theTemplatesVolumesComeAlongButNotItsPlacement() {
    TrainingJob withTemplate = job(List.of("python3"), List.of("/workloads/ddp_train.py"));
    PodTemplate t = new PodTemplate();
    t.volumes =
        List.of(new VolumeBuilder().withName("ckpt").withNewEmptyDir().endEmptyDir().build());
    t.volumeMounts =
        List.of(new VolumeMountBuilder().withName("ckpt").withMountPath("/ckpt").build());
    t.nodeSelector = Map.of("gpupool.io/provider", "the-trainer");
    withTemplate.getSpec().template = t;
    Pod pod =
        VerifierPods.verifier(
            withTemplate, VerifierPods.script(withTemplate).orElseThrow(), "other-1", 0, 10);
    assertThat(pod.getSpec().getVolumes()).extracting("name").contains("ckpt");
    assertThat(pod.getSpec().getContainers().get(0).getVolumeMounts())
        .extracting("mountPath")
        .contains("/ckpt");
    assertThat(pod.getSpec().getNodeSelector()).isNullOrEmpty();
    assertThat(t.nodeSelector).as("the job's spec is not changed").isNotEmpty();
  }

  @Test
  void aJobWithoutCheckpointsCannotBeVerified() {
    TrainingJob none = job(List.of("python3", "t.py"), null);
    none.getSpec().checkpoint = null;
    assertThatThrownBy(() -> VerifierPods.verifier(none, List.of("t.py"), "n", 0, 10))
        .hasMessageContaining("the job has none");
  }
}
