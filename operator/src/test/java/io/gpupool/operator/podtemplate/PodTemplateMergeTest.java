package io.gpupool.operator.podtemplate;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvFromSourceBuilder;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.gpupool.api.v1alpha1.PodTemplate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PodTemplateMergeTest {
  private static Pod operatorPod() {
    return new PodBuilder()
        .withNewMetadata()
        .withName("job-0")
        .withLabels(Map.of("gpupool.io/job", "job", "gpupool.io/rank", "0"))
        .withAnnotations(Map.of("gpupool.io/gpus", "2"))
        .endMetadata()
        .withNewSpec()
        .withNodeName("eu-h100-1")
        .withRestartPolicy("Never")
        .addNewToleration()
        .withKey("nvidia.com/gpu")
        .withOperator("Exists")
        .withEffect("NoSchedule")
        .endToleration()
        .addNewContainer()
        .withName("worker")
        .withImage("trainer:1")
        .addNewEnv()
        .withName("MASTER_ADDR")
        .withValue("job-0.job")
        .endEnv()
        .withNewResources()
        .addToLimits("nvidia.com/gpu", new Quantity("2"))
        .endResources()
        .endContainer()
        .endSpec()
        .build();
  }

  private static PodTemplate everything() {
    PodTemplate t = new PodTemplate();
    t.labels = Map.of("team", "nlp", "gpupool.io/rank", "7");
    t.annotations = Map.of("prometheus.io/scrape", "true", "gpupool.io/gpus", "99");
    t.serviceAccountName = "trainer";
    t.imagePullSecrets = List.of(new LocalObjectReference("registry-creds"));
    t.securityContext = new PodSecurityContextBuilder().withFsGroup(1000L).build();
    t.containerSecurityContext = new SecurityContextBuilder().withRunAsNonRoot(true).build();
    t.volumes =
        List.of(
            new VolumeBuilder()
                .withName("dataset")
                .withNewPersistentVolumeClaim("imagenet", true)
                .build());
    t.volumeMounts =
        List.of(
            new VolumeMountBuilder()
                .withName("dataset")
                .withMountPath("/data")
                .withReadOnly(true)
                .build());
    t.envFrom = List.of(new EnvFromSourceBuilder().withNewSecretRef("hf-token", false).build());
    t.shmSize = "8Gi";
    t.nodeSelector = Map.of("topology.kubernetes.io/region", "eu");
    t.tolerations =
        List.of(
            new TolerationBuilder()
                .withKey("dedicated")
                .withOperator("Equal")
                .withValue("nlp")
                .withEffect("NoSchedule")
                .build());
    t.initContainers =
        List.of(new ContainerBuilder().withName("fetch").withImage("busybox").build());
    t.sidecars = List.of(new ContainerBuilder().withName("logs").withImage("fluent").build());
    return t;
  }

  @Test
  void noTemplateLeavesThePodAlone() {
    Pod pod = operatorPod();
    assertThat(PodTemplateMerge.apply(pod, "worker", null)).isSameAs(pod);
  }

  @Test
  void mergesWhatAWorkloadNeeds() {
    Pod pod = PodTemplateMerge.apply(operatorPod(), "worker", everything());

    assertThat(pod.getMetadata().getLabels())
        .containsEntry("team", "nlp")
        .as("the operator's labels win")
        .containsEntry("gpupool.io/rank", "0");
    assertThat(pod.getMetadata().getAnnotations())
        .containsEntry("prometheus.io/scrape", "true")
        .containsEntry("gpupool.io/gpus", "2");
    var spec = pod.getSpec();
    assertThat(spec.getServiceAccountName()).isEqualTo("trainer");
    assertThat(spec.getImagePullSecrets()).extracting("name").containsExactly("registry-creds");
    assertThat(spec.getSecurityContext().getFsGroup()).isEqualTo(1000L);
    assertThat(spec.getNodeSelector()).containsEntry("topology.kubernetes.io/region", "eu");
    assertThat(spec.getTolerations())
        .extracting("key")
        .containsExactly("nvidia.com/gpu", "dedicated");
    assertThat(spec.getVolumes())
        .extracting(Volume::getName)
        .containsExactly("dataset", PodTemplate.SHM_VOLUME);
    Volume shm = spec.getVolumes().get(1);
    assertThat(shm.getEmptyDir().getMedium()).isEqualTo("Memory");
    assertThat(shm.getEmptyDir().getSizeLimit()).isEqualTo(new Quantity("8Gi"));
    assertThat(spec.getVolumes().get(0).getPersistentVolumeClaim().getClaimName())
        .isEqualTo("imagenet");
    assertThat(spec.getInitContainers()).extracting(Container::getName).containsExactly("fetch");
    assertThat(spec.getContainers())
        .extracting(Container::getName)
        .containsExactly("worker", "logs");

    Container worker = spec.getContainers().get(0);
    assertThat(worker.getVolumeMounts())
        .extracting("mountPath")
        .containsExactly("/data", PodTemplateMerge.SHM_PATH);
    assertThat(worker.getEnvFrom().get(0).getSecretRef().getName()).isEqualTo("hf-token");
    assertThat(worker.getSecurityContext().getRunAsNonRoot()).isTrue();
  }

  @Test
  void theOperatorsDecisionsStand() {
    Pod before = operatorPod();
    Pod pod = PodTemplateMerge.apply(before, "worker", everything());

    assertThat(pod.getSpec().getNodeName()).isEqualTo("eu-h100-1");
    assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
    Container worker = pod.getSpec().getContainers().get(0);
    assertThat(worker.getImage()).isEqualTo("trainer:1");
    assertThat(worker.getEnv()).extracting("name").containsExactly("MASTER_ADDR");
    assertThat(worker.getResources().getLimits())
        .containsOnlyKeys("nvidia.com/gpu")
        .containsEntry("nvidia.com/gpu", new Quantity("2"));
    assertThat(before.getSpec().getVolumes()).as("the input pod is not modified").isNullOrEmpty();
    assertThat(before.getSpec().getContainers()).hasSize(1);
  }
}
