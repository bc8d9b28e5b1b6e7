package io.gpupool.operator.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.ModelWeightsSource;
import io.gpupool.api.v1alpha1.PodTemplate;
import io.gpupool.api.v1alpha1.ReplicaRange;
import io.gpupool.api.v1alpha1.WeightsCache;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The weights volume, fetch container and mount in an InferenceJob's pods, and their outcome. */
class ModelCacheTest {
  static final String URI = "hf://meta-llama/Llama-2-13b-chat-hf";
  private static final ModelCache.Settings SETTINGS =
      new ModelCache.Settings("/data/weights/", "fetcher:1", List.of("fetch"));

  static InferenceJob job(ModelWeightsSource weights) {
    InferenceJob job = new InferenceJob();
    job.setMetadata(
        new ObjectMetaBuilder().withName("chat").withNamespace("serving").withUid("u-1").build());
    InferenceJobSpec spec = new InferenceJobSpec();
    spec.image = "vllm/vllm-openai:v0.6.3";
    spec.model = new ModelSpec();
    spec.model.parameters = "13B";
    spec.model.layers = 40;
    spec.replicas = new ReplicaRange();
    spec.replicas.max = 2;
    spec.weights = weights;
    job.setSpec(spec);
    return job;
  }

  static ModelWeightsSource weights(boolean cached) {
    ModelWeightsSource w = new ModelWeightsSource();
    w.uri = URI;
    w.sizeGiB = 26;
    if (!cached) {
      w.cache = new WeightsCache();
      w.cache.enabled = false;
    }
    return w;
  }

  static ShardAssignment shard(String node) {
    return new ShardAssignment(
        0, 0, 1, node, "prov", "eu", "NVIDIA-A100-SXM4-80GB", 1, 1000, 1, "nvidia.com/gpu", 0, 39);
  }

  private static Pod pod(InferenceJob job) {
    return InferenceGroup.pods(job, List.of(shard("n1")), "g", "h", SETTINGS).get(0);
  }

  @Test
  void aCachedModelGetsAHostPathByDigestAFirstFetchContainerAndAReadOnlyMount() {
    Pod pod = pod(job(weights(true)));
    String digest = ModelCache.digest(URI);
    assertThat(digest).hasSize(32).matches("[0-9a-f]+");
    assertThat(pod.getMetadata().getLabels()).containsEntry(ModelCache.DIGEST_LABEL, digest);
    assertThat(pod.getMetadata().getAnnotations())
        .containsEntry(ModelCache.BYTES_ANNOTATION, Long.toString(26L << 30));
    var volume =
        pod.getSpec().getVolumes().stream()
            .filter(v -> v.getName().equals(ModelCache.VOLUME))
            .findFirst()
            .orElseThrow();
    assertThat(volume.getHostPath().getPath()).isEqualTo("/data/weights/" + digest);
    assertThat(volume.getHostPath().getType()).isEqualTo("DirectoryOrCreate");
    var fetch = pod.getSpec().getInitContainers().get(0);
    assertThat(fetch.getName()).isEqualTo(ModelCache.FETCH_CONTAINER);
    assertThat(fetch.getImage()).isEqualTo("fetcher:1");
    assertThat(fetch.getCommand()).containsExactly("fetch");
    assertThat(fetch.getVolumeMounts().get(0).getReadOnly()).isNotEqualTo(Boolean.TRUE);
    assertThat(env(fetch.getEnv()))
        .containsEntry(ModelCache.URI_ENV, URI)
        .containsEntry(ModelCache.DIR_ENV, ModelCache.FETCH_DIR)
        .containsEntry(ModelCache.BYTES_ENV, Long.toString(26L << 30));
    assertThat(fetch.getResources()).as("no GPU for the fetcher").isNull();
    var server = pod.getSpec().getContainers().get(0);
    var mount = server.getVolumeMounts().get(0);
    assertThat(mount.getName()).isEqualTo(ModelCache.VOLUME);
    assertThat(mount.getMountPath()).isEqualTo("/mnt/models");
    assertThat(mount.getReadOnly()).isTrue();
    assertThat(env(server.getEnv()))
        .containsEntry(ModelCache.DIR_ENV, "/mnt/models")
        .containsEntry(ModelCache.URI_ENV, URI);
  }

  @Test
  void withoutTheCacheTheWeightsGoToAnEmptyDirSizedByTheModel() {
    Pod pod = pod(job(weights(false)));
    var volume =
        pod.getSpec().getVolumes().stream()
            .filter(v -> v.getName().equals(ModelCache.VOLUME))
            .findFirst()
            .orElseThrow();
    assertThat(volume.getHostPath()).isNull();
    assertThat(volume.getEmptyDir().getSizeLimit().toString()).isEqualTo("26Gi");
  }

  @Test
  void theTemplatesInitContainersAndVolumesComeAfterTheOperatorsAndNoWeightsMeansNone() {
    InferenceJob job = job(weights(true));
    job.getSpec().template = new PodTemplate();
    job.getSpec().template.initContainers =
        List.of(
            new io.fabric8.kubernetes.api.model.ContainerBuilder()
                .withName("warmup")
                .withImage("busybox")
                .build());
    job.getSpec().template.volumes =
        List.of(new VolumeBuilder().withName("data").withNewEmptyDir().endEmptyDir().build());
    job.getSpec().template.volumeMounts =
        List.of(new VolumeMountBuilder().withName("data").withMountPath("/data").build());
    Pod pod = pod(job);
    assertThat(pod.getSpec().getInitContainers())
        .extracting(c -> c.getName())
        .containsExactly(ModelCache.FETCH_CONTAINER, "warmup");
    assertThat(pod.getSpec().getVolumes())
        .extracting(v -> v.getName())
        .containsExactly(ModelCache.VOLUME, "data");
    assertThat(pod.getSpec().getContainers().get(0).getVolumeMounts())
        .extracting(m -> m.getMountPath())
        .containsExactly("/mnt/models", "/data");

    Pod plain = pod(job(null));
    assertThat(plain.getSpec().getInitContainers()).isNullOrEmpty();
    assertThat(plain.getMetadata().getLabels()).doesNotContainKey(ModelCache.DIGEST_LABEL);
  }

  @Test
  void otherWeightsRollTheReplicasLikeANewImage() {
    String before = InferenceGroup.specHash(job(weights(true)).getSpec());
    ModelWeightsSource other = weights(true);
    other.uri = "hf://meta-llama/Llama-2-7b-chat-hf";
    assertThat(InferenceGroup.specHash(job(other).getSpec())).isNotEqualTo(before);
    assertThat(InferenceGroup.specHash(job(weights(false)).getSpec())).isNotEqualTo(before);
    assertThat(InferenceGroup.specHash(job(weights(true)).getSpec())).isEqualTo(before);
  }

  static Pod withFetch(Pod pod, String phase, Integer exit, String message) {
    var cs = new ContainerStatusBuilder().withName(ModelCache.FETCH_CONTAINER);
    if (exit == null) {
      cs.withNewState()
          .withNewRunning()
          .withStartedAt("2026-12-06T10:00:00Z")
          .endRunning()
          .endState();
    } else {
      cs.withNewState()
          .withNewTerminated()
          .withExitCode(exit)
          .withMessage(message)
          .withStartedAt("2026-12-06T10:00:00Z")
          .withFinishedAt("2026-12-06T10:00:42.500Z")
          .endTerminated()
          .endState();
    }
    pod.setStatus(
        new PodStatusBuilder().withPhase(phase).withInitContainerStatuses(cs.build()).build());
    return pod;
  }

  @Test
  void theOutcomeIsReadFromTheFetchContainersTerminationMessage() {
    InferenceJob job = job(weights(true));
    String digest = ModelCache.digest(URI);
    assertThat(ModelCache.outcome(withFetch(pod(job), "Pending", null, null)))
        .contains(new ModelCache.Outcome(digest, 26L << 30, ModelCache.PULLING, null));
    assertThat(ModelCache.outcome(withFetch(pod(job), "Running", 0, "Hit\n")))
        .contains(new ModelCache.Outcome(digest, 26L << 30, ModelCache.HIT, 42.5));
    assertThat(ModelCache.outcome(withFetch(pod(job), "Running", 0, "Miss")).orElseThrow().miss())
        .isTrue();
    assertThat(ModelCache.outcome(withFetch(pod(job), "Running", 0, "done")).orElseThrow().result())
        .as("a fetcher that does not say")
        .isEqualTo(ModelCache.FETCHED);
    assertThat(ModelCache.outcome(withFetch(pod(job), "Failed", 1, "403 Forbidden")))
        .as("a failed fetch holds nothing")
        .isEmpty();
    assertThat(ModelCache.outcome(pod(job(null)))).isEmpty();
  }

  private static Map<String, String> env(List<EnvVar> env) {
    return env.stream().collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue, (a, b) -> b));
  }
}
