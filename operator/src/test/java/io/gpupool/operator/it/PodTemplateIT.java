package io.gpupool.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvFromSourceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.PodTemplate;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.gpupool.operator.queue.PreemptNotice;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * spec.template against the mock API server: what reaches the pods, where the placement puts them
 * (only on nodes the template admits) and what is refused with a condition naming the field.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class PodTemplateIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final String NS = "default";
  private static final String RTX4090 = "NVIDIA-GeForce-RTX-4090";

  @Inject KubernetesClient client;
  @Inject NodeInventory nodes;
  @Inject ProviderDirectory providers;

  private void pool(String region, int nodes, Map<String, String> extraLabelsOnEven) {
    String provider = "prov-" + region;
    client.resource(TestNodes.provider(provider, RTX4090, "0.40")).create();
    for (int i = 0; i < nodes; i++) {
      Node node = TestNodes.gpuNode(region + "-" + i, provider, RTX4090, 1, 24564, region);
      if (i % 2 == 0) {
        node.getMetadata().getLabels().putAll(extraLabelsOnEven);
      }
      client.resource(node).create();
    }
  }

  private static TrainingJob job(String name, String region, int workers, PodTemplate template) {
    TrainingJob job = TestJobs.training(NS, name, region, workers);
    job.getSpec().template = template;
    return job;
  }

  private List<Pod> awaitPods(String job, int count) {
    return await()
        .atMost(TIMEOUT)
        .until(
            () ->
                client
                    .pods()
                    .inNamespace(NS)
                    .withLabel("gpupool.io/job-name", job)
                    .list()
                    .getItems(),
            pods -> pods.size() == count);
  }

  @Test
  void theTemplateReachesEveryPodAndNarrowsThePlacement() {
    pool("tmpl", 6, Map.of("disk", "nvme"));
    PodTemplate t = new PodTemplate();
    t.nodeSelector = Map.of("disk", "nvme");
    t.labels = Map.of("team", "nlp");
    t.annotations = Map.of("example.com/owner", "nlp-team");
    t.serviceAccountName = "trainer";
    t.volumes =
        List.of(
            new VolumeBuilder()
                .withName("dataset")
                .withNewPersistentVolumeClaim("imagenet", true)
                .build());
    t.volumeMounts =
        List.of(new VolumeMountBuilder().withName("dataset").withMountPath("/data").build());
    t.envFrom = List.of(new EnvFromSourceBuilder().withNewSecretRef("hf-token", false).build());
    t.shmSize = "8Gi";
    t.sidecars = List.of(new ContainerBuilder().withName("logs").withImage("fluent").build());
    client.resource(job("tmpl-a", "tmpl", 3, t)).create();

    List<Pod> pods = awaitPods("tmpl-a", 3);

    assertThat(pods)
        .extracting(p -> p.getSpec().getNodeName())
        .as("only the nodes with disk=nvme (tmpl-0, tmpl-2, tmpl-4)")
        .containsExactlyInAnyOrder("tmpl-0", "tmpl-2", "tmpl-4");
    for (Pod p : pods) {
      assertThat(p.getMetadata().getLabels())
          .containsEntry("team", "nlp")
          .containsEntry("gpupool.io/job-name", "tmpl-a");
      assertThat(p.getMetadata().getAnnotations()).containsEntry("example.com/owner", "nlp-team");
      assertThat(p.getSpec().getServiceAccountName()).isEqualTo("trainer");
      assertThat(p.getSpec().getNodeSelector()).containsEntry("disk", "nvme");
      assertThat(p.getSpec().getVolumes())
          .extracting(Volume::getName)
          // the template's volume, its /dev/shm and the operator's own preemption notice
          .containsExactlyInAnyOrder("dataset", PodTemplate.SHM_VOLUME, PreemptNotice.VOLUME);
      assertThat(p.getSpec().getContainers())
          .extracting(Container::getName)
          .containsExactly("worker", "logs");
      Container worker = p.getSpec().getContainers().get(0);
      assertThat(worker.getVolumeMounts())
          .extracting("mountPath")
          .containsExactlyInAnyOrder("/data", "/dev/shm", PreemptNotice.DIRECTORY);
      assertThat(worker.getEnvFrom().get(0).getSecretRef().getName()).isEqualTo("hf-token");
      assertThat(worker.getEnv()).extracting("name").contains("MASTER_ADDR", "WORLD_SIZE");
      assertThat(worker.getResources().getLimits())
          .containsEntry("nvidia.com/gpu", new Quantity("1"));
    }
  }

  @Test
  void aPreferredNodeAffinityPutsTheJobOnTheDearerNodesItPrefers() {
    // Two providers in one region: the cheap one's nodes win on price unless the job prefers.
    client.resource(TestNodes.provider("prov-prefcheap", RTX4090, "0.40")).create();
    client.resource(TestNodes.provider("prov-prefdear", RTX4090, "0.90")).create();
    for (int i = 0; i < 2; i++) {
      client
          .resource(
              TestNodes.gpuNode("pref-cheap-" + i, "prov-prefcheap", RTX4090, 1, 24564, "pref"))
          .create();
      client
          .resource(TestNodes.gpuNode("pref-dear-" + i, "prov-prefdear", RTX4090, 1, 24564, "pref"))
          .create();
    }
    // Both providers priced and all four nodes read before the job: a preference ranks the nodes
    // the operator knows of at its placement.
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                providers.price("prov-prefdear", RTX4090).isPresent()
                    && providers.price("prov-prefcheap", RTX4090).isPresent()
                    && nodes.node("pref-dear-1").isPresent()
                    && nodes.node("pref-cheap-1").isPresent()
                    && nodes.node("pref-dear-0").isPresent()
                    && nodes.node("pref-cheap-0").isPresent());
    PodTemplate t = new PodTemplate();
    t.affinity =
        new AffinityBuilder()
            .withNewNodeAffinity()
            .addNewPreferredDuringSchedulingIgnoredDuringExecution()
            .withWeight(80)
            .withNewPreference()
            .addNewMatchExpression()
            .withKey("gpupool.io/provider")
            .withOperator("In")
            .withValues("prov-prefdear")
            .endMatchExpression()
            .endPreference()
            .endPreferredDuringSchedulingIgnoredDuringExecution()
            .endNodeAffinity()
            .build();
    client.resource(job("pref-a", "pref", 2, t)).create();

    assertThat(awaitPods("pref-a", 2))
        .extracting(p -> p.getSpec().getNodeName())
        .containsExactlyInAnyOrder("pref-dear-0", "pref-dear-1");
    TrainingJob placed =
        client.resources(TrainingJob.class).inNamespace(NS).withName("pref-a").get();
    assertThat(placed.getStatus().plan.reason).contains("Preferred node affinity");
  }

  @Test
  void aTemplateNoNodeAdmitsLeavesTheJobPendingWithTheReason() {
    pool("tmplnone", 2, Map.of());
    PodTemplate t = new PodTemplate();
    t.nodeSelector = Map.of("disk", "nvme");
    client.resource(job("tmpl-none", "tmplnone", 1, t)).create();

    TrainingJob job =
        await()
            .atMost(TIMEOUT)
            .until(
                () ->
                    client.resources(TrainingJob.class).inNamespace(NS).withName("tmpl-none").get(),
                j ->
                    j.getStatus() != null
                        && condition(j, "Scheduled") != null
                        && "False".equals(condition(j, "Scheduled").getStatus()));
    assertThat(condition(job, "Scheduled").getReason()).isEqualTo("Unschedulable");
    assertThat(
            client
                .pods()
                .inNamespace(NS)
                .withLabel("gpupool.io/job-name", "tmpl-none")
                .list()
                .getItems())
        .isEmpty();
  }

  @Test
  void whatTheOperatorOwnsIsRefusedNamingTheField() {
    pool("tmplbad", 1, Map.of());
    PodTemplate t = new PodTemplate();
    t.nodeName = "tmplbad-0";
    t.sidecars =
        List.of(
            new ContainerBuilder()
                .withName("greedy")
                .withImage("x")
                .withNewResources()
                .addToLimits("nvidia.com/gpu", new Quantity("1"))
                .endResources()
                .build());
    TrainingJob bad = job("tmpl-bad", "tmplbad", 1, t);
    bad.getSpec().env =
        List.of(new io.fabric8.kubernetes.api.model.EnvVar("MASTER_ADDR", "x", null));
    client.resource(bad).create();

    TrainingJob job =
        await()
            .atMost(TIMEOUT)
            .until(
                () ->
                    client.resources(TrainingJob.class).inNamespace(NS).withName("tmpl-bad").get(),
                j -> j.getStatus() != null && condition(j, "SpecValid") != null);
    Condition valid = condition(job, "SpecValid");
    assertThat(valid.getStatus()).isEqualTo("False");
    assertThat(valid.getReason()).isEqualTo("InvalidSpec");
    assertThat(valid.getMessage())
        .contains("spec.template.nodeName: Forbidden")
        .contains("spec.template.sidecars[0].resources: Forbidden: nvidia.com/gpu")
        .contains("spec.env[0].name: Forbidden: MASTER_ADDR is set by the operator");
    assertThat(
            client
                .pods()
                .inNamespace(NS)
                .withLabel("gpupool.io/job-name", "tmpl-bad")
                .list()
                .getItems())
        .isEmpty();
  }

  private static Condition condition(TrainingJob job, String type) {
    return job.getStatus().conditions == null
        ? null
        : job.getStatus().conditions.stream()
            .filter(c -> type.equals(c.getType()))
            .findFirst()
            .orElse(null);
  }
}
