package io.gpupool.operator.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.gpupool.api.v1alpha1.Checkpoint;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.Parallelism;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class TrainingGangTest {

  private static TrainingJob job(int workers, Integer minWorkers) {
    TrainingJob job = new TrainingJob();
    job.setMetadata(
        new ObjectMetaBuilder().withName("pretrain").withNamespace("ml").withUid("uid-1").build());
    TrainingJobSpec spec = new TrainingJobSpec();
    spec.image = "img:1";
    spec.command = List.of("torchrun");
    spec.args = List.of("train.py");
    spec.env = List.of(new EnvVar("WANDB_PROJECT", "x", null), new EnvVar("RANK", "99", null));
    spec.parallelism = new Parallelism();
    spec.parallelism.workers = workers;
    spec.parallelism.gpusPerWorker = 2;
    spec.parallelism.minWorkers = minWorkers;
    spec.model = new ModelSpec();
    spec.model.parameters = "13B";
    spec.model.layers = 40;
    spec.model.globalBatchSize = 512;
    spec.checkpoint = new Checkpoint();
    spec.checkpoint.uri = "s3://ckpt/pretrain";
    spec.checkpoint.intervalSeconds = 900;
    job.setSpec(spec);
    return job;
  }

  private static List<RankAssignment> pipeline() {
    return List.of(
        new RankAssignment(
            0,
            "a100-1",
            "alice",
            "eu-west",
            "NVIDIA-A100-SXM4-80GB",
            2,
            "nvidia.com/gpu",
            0,
            0,
            15,
            1.0),
        new RankAssignment(
            1,
            "rtx-7",
            "bob",
            "eu-west",
            "NVIDIA-GeForce-RTX-3090",
            2,
            "nvidia.com/gpu",
            1,
            16,
            27,
            1.0),
        new RankAssignment(
            2,
            "rtx-8",
            "carol",
            "us-east",
            "NVIDIA-GeForce-RTX-4090",
            2,
            "nvidia.com/gpu",
            2,
            28,
            39,
            1.0));
  }

  private static Map<String, String> env(Pod pod) {
    return pod.getSpec().getContainers().get(0).getEnv().stream()
        .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
  }

  @Test
  void pipelineRanksGetTorchrunAndStageVariables() {
    List<Pod> pods = TrainingGang.pods(job(3, null), pipeline(), "PipelineParallel", 0, 0, null);
    assertThat(pods)
        .extracting(p -> p.getMetadata().getName())
        .containsExactly("pretrain-worker-0", "pretrain-worker-1", "pretrain-worker-2");
    Map<String, String> rank1 = env(pods.get(1));
    assertThat(rank1)
        .containsEntry("MASTER_ADDR", "pretrain-worker-0.pretrain.ml.svc")
        .containsEntry("MASTER_PORT", "29500")
        .containsEntry("WORLD_SIZE", "6")
        .containsEntry("RANK", "1")
        .containsEntry("PET_NNODES", "3")
        .containsEntry("PET_NPROC_PER_NODE", "2")
        .containsEntry("PET_NODE_RANK", "1")
        .containsEntry("PYTHONUNBUFFERED", "1")
        .containsEntry("GPUPOOL_STAGE_INDEX", "1")
        .containsEntry("GPUPOOL_STAGE_COUNT", "3")
        .containsEntry("GPUPOOL_FIRST_LAYER", "16")
        .containsEntry("GPUPOOL_LAST_LAYER", "27")
        .containsEntry("GPUPOOL_GPU_MODEL", "NVIDIA-GeForce-RTX-3090")
        .containsEntry("GPUPOOL_CHECKPOINT_URI", "s3://ckpt/pretrain")
        .containsEntry("WANDB_PROJECT", "x")
        .doesNotContainKey("PET_RDZV_ENDPOINT")
        .doesNotContainKey("GPUPOOL_RESUME_FROM");
    assertThat(rank1.get("RANK")).as("the operator's RANK wins over a user's").isEqualTo("1");
  }

  @Test
  void podsArePinnedTolerateTheGpuTaintAndAreOwned() {
    Pod pod =
        TrainingGang.pods(
                job(3, null), pipeline(), "PipelineParallel", 4, 1, "s3://ckpt/pretrain/step-100")
            .get(0);
    assertThat(pod.getSpec().getNodeName()).isEqualTo("a100-1");
    assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getSpec().getTolerations())
        .anySatisfy(
            t -> {
              assertThat(t.getKey()).isEqualTo("nvidia.com/gpu");
              assertThat(t.getOperator()).isEqualTo("Exists");
            });
    assertThat(
            pod.getSpec()
                .getContainers()
                .get(0)
                .getResources()
                .getLimits()
                .get("nvidia.com/gpu")
                .getAmount())
        .isEqualTo("2");
    assertThat(pod.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.getUid()).isEqualTo("uid-1");
              assertThat(o.getController()).isTrue();
            });
    assertThat(pod.getMetadata().getLabels())
        .containsEntry("gpupool.io/job-name", "pretrain")
        .containsEntry("gpupool.io/rank", "0")
        .containsEntry("gpupool.io/gang-generation", "4")
        .containsEntry("gpupool.io/provider", "alice");
    assertThat(env(pod))
        .containsEntry("GPUPOOL_RESUME_FROM", "s3://ckpt/pretrain/step-100")
        .containsEntry("GPUPOOL_RESTART_COUNT", "1");
  }

  @Test
  void elasticJobsGetRendezvousVariables() {
    Map<String, String> env =
        env(TrainingGang.pods(job(3, 2), pipeline(), "DataParallel", 0, 0, null).get(2));
    assertThat(env)
        .containsEntry("PET_NNODES", "2:3")
        .containsEntry("PET_RDZV_ENDPOINT", "pretrain-worker-0.pretrain.ml.svc:29500")
        .containsEntry("PET_RDZV_BACKEND", "c10d")
        .containsEntry("PET_RDZV_ID", "uid-1");
  }

  @Test
  void dataParallelBatchSharesBecomeLocalBatchSizes() {
    List<RankAssignment> ranks =
        List.of(
            new RankAssignment(
                0,
                "n1",
                "alice",
                "eu",
                "NVIDIA-H100-80GB-HBM3",
                2,
                "nvidia.com/gpu",
                -1,
                -1,
                -1,
                0.75),
            new RankAssignment(
                1,
                "n2",
                "bob",
                "eu",
                "NVIDIA-GeForce-RTX-4090",
                2,
                "nvidia.com/gpu",
                -1,
                -1,
                -1,
                0.25));
    List<Pod> pods = TrainingGang.pods(job(2, null), ranks, "DataParallel", 0, 0, null);
    assertThat(env(pods.get(0)))
        .containsEntry("GPUPOOL_LOCAL_BATCH_SIZE", "384")
        .containsEntry("GPUPOOL_BATCH_SHARE", "0.750000")
        .doesNotContainKey("GPUPOOL_STAGE_INDEX");
    assertThat(env(pods.get(1))).containsEntry("GPUPOOL_LOCAL_BATCH_SIZE", "128");
  }

  @Test
  void headlessServiceSelectsTheGang() {
    Service svc = TrainingGang.service(job(3, null));
    assertThat(svc.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(svc.getSpec().getSelector()).containsEntry("gpupool.io/job-name", "pretrain");
    assertThat(svc.getMetadata().getOwnerReferences()).hasSize(1);
  }
}
