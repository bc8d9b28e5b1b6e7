package io.gpupool.operator.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.ReplicaRange;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InferenceGroupTest {

  private static InferenceJob job() {
    InferenceJob job = new InferenceJob();
    job.setMetadata(
        new ObjectMetaBuilder().withName("llm").withNamespace("serving").withUid("u-1").build());
    InferenceJobSpec spec = new InferenceJobSpec();
    spec.image = "vllm/vllm-openai:v0.6.0";
    spec.port = 8080;
    spec.args = List.of("--model", "meta-llama/Llama-3-70B");
    spec.env =
        List.of(new EnvVar("HF_HOME", "/cache", null), new EnvVar("LWS_GROUP_SIZE", "9", null));
    spec.model = new ModelSpec();
    spec.model.parameters = "70B";
    spec.model.layers = 80;
    spec.replicas = new ReplicaRange();
    spec.replicas.min = 1;
    spec.replicas.max = 2;
    job.setSpec(spec);
    return job;
  }

  private static ShardAssignment shard(int index, int first, int last) {
    return new ShardAssignment(
        3,
        index,
        2,
        "node-" + index,
        "prov-" + index,
        "eu",
        "NVIDIA-GeForce-RTX-4090",
        4,
        1000,
        4,
        "nvidia.com/gpu",
        first,
        last);
  }

  private static Map<String, String> env(Pod pod) {
    Map<String, String> env = new HashMap<>();
    for (EnvVar e : pod.getSpec().getContainers().get(0).getEnv()) {
      assertThat(env).doesNotContainKey(e.getName());
      env.put(e.getName(), e.getValue());
    }
    return env;
  }

  @Test
  void leaderAndWorkerCarryTheLeaderWorkerSetAndKserveContract() {
    List<Pod> pods =
        InferenceGroup.pods(job(), List.of(shard(0, 0, 39), shard(1, 40, 79)), "abcde", "h1");
    assertThat(pods).hasSize(2);
    Map<String, String> leader = env(pods.get(0));
    Map<String, String> worker = env(pods.get(1));
    for (Map<String, String> e : List.of(leader, worker)) {
      assertThat(e)
          .containsEntry("LWS_LEADER_ADDRESS", "llm-r3-0.llm-r3.serving.svc")
          .containsEntry("LWS_GROUP_SIZE", "2") // ours override the user's
          .containsEntry("PIPELINE_PARALLEL_SIZE", "2")
          .containsEntry("TENSOR_PARALLEL_SIZE", "4")
          .containsEntry("GPUPOOL_REPLICA_INDEX", "3")
          .containsEntry("GPUPOOL_GPU_MODEL", "NVIDIA-GeForce-RTX-4090")
          .containsEntry("GPUPOOL_GPU_SHARE_MILLI", "1000")
          .containsEntry("GPUPOOL_PORT", "8080")
          .containsEntry("HF_HOME", "/cache");
    }
    assertThat(leader)
        .containsEntry("LWS_WORKER_INDEX", "0")
        .containsEntry("GPUPOOL_FIRST_LAYER", "0")
        .containsEntry("GPUPOOL_LAST_LAYER", "39");
    assertThat(worker)
        .containsEntry("LWS_WORKER_INDEX", "1")
        .containsEntry("GPUPOOL_FIRST_LAYER", "40")
        .containsEntry("GPUPOOL_LAST_LAYER", "79");
  }

  @Test
  void podsArePinnedLabelledOwnedAndRequestTheirSlots() {
    Pod leader = InferenceGroup.pods(job(), List.of(shard(0, 0, 39)), "abcde", "h1").get(0);
    assertThat(leader.getSpec().getNodeName()).isEqualTo("node-0");
    assertThat(leader.getSpec().getHostname()).isEqualTo("llm-r3-0");
    assertThat(leader.getSpec().getSubdomain()).isEqualTo("llm-r3");
    assertThat(leader.getSpec().getRestartPolicy()).isEqualTo("Never");
    assertThat(leader.getSpec().getTolerations())
        .anyMatch(t -> "nvidia.com/gpu".equals(t.getKey()));
    assertThat(leader.getMetadata().getLabels())
        .containsEntry("gpupool.io/job-name", "llm")
        .containsEntry("gpupool.io/job-kind", "InferenceJob")
        .containsEntry("gpupool.io/replica", "3")
        .containsEntry("gpupool.io/shard", "0")
        .containsEntry("gpupool.io/role", "leader")
        .containsEntry("gpupool.io/draining", "false")
        .containsEntry("gpupool.io/spec-hash", "h1");
    assertThat(leader.getMetadata().getOwnerReferences().get(0).getUid()).isEqualTo("u-1");
    var c = leader.getSpec().getContainers().get(0);
    assertThat(c.getResources().getLimits()).containsEntry("nvidia.com/gpu", new Quantity("4"));
    assertThat(c.getArgs()).containsExactly("--model", "meta-llama/Llama-3-70B");
    assertThat(c.getReadinessProbe().getTcpSocket().getPort().getIntVal()).isEqualTo(8080);
  }

  @Test
  void aGpuShareRequestsSharedSlotsAndSaysItsShare() {
    ShardAssignment share =
        new ShardAssignment(
            0,
            0,
            1,
            "ts",
            "p",
            "eu",
            "NVIDIA-A100-SXM4-80GB",
            1,
            250,
            1,
            "nvidia.com/gpu.shared",
            0,
            31);
    Pod pod = InferenceGroup.pods(job(), List.of(share), "g", "h").get(0);
    assertThat(pod.getSpec().getContainers().get(0).getResources().getLimits())
        .containsEntry("nvidia.com/gpu.shared", new Quantity("1"));
    assertThat(env(pod))
        .containsEntry("GPUPOOL_GPU_SHARE_MILLI", "250")
        .containsEntry("TENSOR_PARALLEL_SIZE", "1");
  }

  @Test
  void theServiceSelectsLeadersThatAreNotDraining() {
    Service svc = InferenceGroup.service(job());
    assertThat(svc.getSpec().getType()).isEqualTo("ClusterIP");
    assertThat(svc.getSpec().getSelector())
        .containsEntry("gpupool.io/job-name", "llm")
        .containsEntry("gpupool.io/role", "leader")
        .containsEntry("gpupool.io/draining", "false");
    assertThat(svc.getSpec().getPorts().get(0).getPort()).isEqualTo(8080);
    assertThat(InferenceGroup.endpoint(job())).isEqualTo("http://llm.serving.svc:8080");
    Service headless = InferenceGroup.groupService(job(), 3, "abcde");
    assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(headless.getMetadata().getName()).isEqualTo("llm-r3");
    assertThat(headless.getSpec().getSelector()).containsEntry("gpupool.io/group", "abcde");
  }

  @Test
  void theSpecHashMovesWithWhatThePodsRunOnly() {
    InferenceJob a = job();
    InferenceJob b = job();
    assertThat(InferenceGroup.specHash(a.getSpec()))
        .isEqualTo(InferenceGroup.specHash(b.getSpec()));
    b.getSpec().replicas.max = 9;
    assertThat(InferenceGroup.specHash(a.getSpec()))
        .isEqualTo(InferenceGroup.specHash(b.getSpec()));
    b.getSpec().image = "vllm/vllm-openai:v0.7.0";
    assertThat(InferenceGroup.specHash(a.getSpec()))
        .isNotEqualTo(InferenceGroup.specHash(b.getSpec()));
    InferenceJob c = job();
    c.getSpec().env = List.of(new EnvVar("HF_HOME", "/other", null));
    assertThat(InferenceGroup.specHash(a.getSpec()))
        .isNotEqualTo(InferenceGroup.specHash(c.getSpec()));
  }

  @Test
  void aGroupIsReadyOnlyWhenEveryShardRunsReady() {
    List<Pod> pods =
        InferenceGroup.pods(job(), List.of(shard(0, 0, 39), shard(1, 40, 79)), "abcde", "h1");
    ReplicaGroup g = ReplicaGroup.of(pods).get(0);
    assertThat(g.ready()).isFalse();
    assertThat(g.failure()).isNull();
    pods.forEach(p -> running(p, true));
    assertThat(ReplicaGroup.of(pods).get(0).ready()).isTrue();
    running(pods.get(1), false);
    assertThat(ReplicaGroup.of(pods).get(0).ready()).isFalse();
    pods.get(1).getStatus().setPhase("Failed");
    assertThat(ReplicaGroup.of(pods).get(0).failure()).contains("failed");
    assertThat(ReplicaGroup.of(List.of(pods.get(0))).get(0).failure()).contains("1 of 2");
  }

  private static void running(Pod p, boolean ready) {
    p.setStatus(
        new io.fabric8.kubernetes.api.model.PodStatusBuilder()
            .withPhase("Running")
            .addNewCondition()
            .withType("Ready")
            .withStatus(ready ? "True" : "False")
            .endCondition()
            .build());
  }
}
