package io.gpupool.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.gpupool.api.v1alpha1.PodTemplate;
import io.gpupool.operator.inference.InferenceGroup;
import io.gpupool.operator.queue.PreemptNotice;
import io.gpupool.operator.training.TrainingGang;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PodTemplateRulesTest {

  private static List<String> problems(PodTemplate t) {
    SpecProblems p = new SpecProblems();
    PodTemplateRules.check(p, "spec.template", t);
    return p.list();
  }

  @Test
  void aWellFormedTemplatePasses() {
    PodTemplate t = new PodTemplate();
    t.volumes =
        List.of(
            new VolumeBuilder().withName("data").withNewPersistentVolumeClaim("ds", true).build());
    t.volumeMounts =
        List.of(new VolumeMountBuilder().withName("data").withMountPath("/data").build());
    t.shmSize = "8Gi";
    t.labels = Map.of("team", "nlp");
    t.sidecars = List.of(new ContainerBuilder().withName("logs").withImage("fluent").build());
    assertThat(problems(t)).isEmpty();
    assertThat(problems(null)).isEmpty();
  }

  @Test
  void whatTheOperatorOwnsIsRefusedNamingTheField() {
    PodTemplate t = new PodTemplate();
    t.nodeName = "my-favourite-node";
    t.labels = Map.of("gpupool.io/rank", "0");
    t.sidecars =
        List.of(
            new ContainerBuilder()
                .withName("greedy")
                .withNewResources()
                .addToLimits("nvidia.com/gpu", new Quantity("1"))
                .endResources()
                .build());
    t.initContainers =
        List.of(
            new ContainerBuilder()
                .withName("warm")
                .withNewResources()
                .addToRequests("nvidia.com/gpu", new Quantity("1"))
                .endResources()
                .build());

    assertThat(problems(t))
        .anySatisfy(m -> assertThat(m).startsWith("spec.template.nodeName: Forbidden"))
        .anySatisfy(
            m -> assertThat(m).startsWith("spec.template.labels: Forbidden: gpupool.io/rank"))
        .anySatisfy(
            m ->
                assertThat(m)
                    .startsWith("spec.template.sidecars[0].resources: Forbidden: nvidia.com/gpu"))
        .anySatisfy(
            m ->
                assertThat(m)
                    .startsWith(
                        "spec.template.initContainers[0].resources: Forbidden: nvidia.com/gpu"))
        .hasSize(4);
  }

  @Test
  void contradictionsAreRefused() {
    PodTemplate t = new PodTemplate();
    t.shmSize = "4Gi";
    t.volumes =
        List.of(
            new VolumeBuilder().withName("a").withNewEmptyDir().endEmptyDir().build(),
            new VolumeBuilder().withName("a").withNewEmptyDir().endEmptyDir().build(),
            new VolumeBuilder()
                .withName(PodTemplate.SHM_VOLUME)
                .withNewEmptyDir()
                .endEmptyDir()
                .build());
    t.volumeMounts =
        List.of(
            new VolumeMountBuilder().withName("missing").withMountPath("/x").build(),
            new VolumeMountBuilder().withName("a").withMountPath("/dev/shm").build());
    assertThat(problems(t))
        .containsExactly(
            "spec.template.volumes[1].name: Duplicate value: a",
            "spec.template.volumes[2].name: Forbidden: gpupool-dshm is the operator's /dev/shm volume",
            "spec.template.volumeMounts[0].name: Not found: missing: no volume of that name in"
                + " spec.template.volumes",
            "spec.template.volumeMounts[1].mountPath: Duplicate value: /dev/shm: shmSize mounts it"
                + " already");
  }

  @Test
  void theRendezvousEnvCannotBeOverridden() {
    SpecProblems p = new SpecProblems();
    PodTemplateRules.checkEnv(
        p,
        "spec.env",
        List.of(
            new EnvVar("HF_HOME", "/cache", null),
            new EnvVar("MASTER_ADDR", "evil", null),
            new EnvVar("PET_NNODES", "9", null)),
        PodTemplateRules.TRAINING_ENV,
        PodTemplateRules.TRAINING_ENV_PREFIXES);
    assertThat(p.list())
        .containsExactly(
            "spec.env[1].name: Forbidden: MASTER_ADDR is set by the operator (rendezvous); it"
                + " cannot be overridden",
            "spec.env[2].name: Forbidden: PET_NNODES is set by the operator (rendezvous); it"
                + " cannot be overridden");
  }

  @Test
  void namesThePodAlreadyUsesAreRefused() {
    PodTemplate t = new PodTemplate();
    t.initContainers =
        List.of(
            new ContainerBuilder().withName("worker").build(),
            new ContainerBuilder().withName("prep").build());
    t.sidecars =
        List.of(
            new ContainerBuilder().withName("server").build(),
            new ContainerBuilder().withName("prep").build(),
            new ContainerBuilder().withName("logs").build(),
            new ContainerBuilder().withName("logs").build());
    t.volumes =
        List.of(
            new VolumeBuilder()
                .withName(PreemptNotice.VOLUME)
                .withNewEmptyDir()
                .endEmptyDir()
                .build(),
            new VolumeBuilder().withName("cfg").withNewEmptyDir().endEmptyDir().build());
    t.volumeMounts =
        List.of(
            new VolumeMountBuilder().withName("cfg").withMountPath(PreemptNotice.DIRECTORY).build(),
            new VolumeMountBuilder()
                .withName("cfg")
                .withMountPath(PreemptNotice.DIRECTORY + "/")
                .build(),
            new VolumeMountBuilder().withName("cfg").withMountPath("/etc/gpupool").build());
    assertThat(problems(t))
        .containsExactly(
            "spec.template.initContainers[0].name: Forbidden: worker is the main container's name"
                + " (worker or server)",
            "spec.template.sidecars[0].name: Forbidden: server is the main container's name"
                + " (worker or server)",
            "spec.template.sidecars[1].name: Duplicate value: prep: init containers and sidecars"
                + " need names unique within the pod",
            "spec.template.sidecars[3].name: Duplicate value: logs: init containers and sidecars"
                + " need names unique within the pod",
            "spec.template.volumes[0].name: Forbidden: gpupool-preempt-notice is the operator's"
                + " preemption-notice volume",
            "spec.template.volumeMounts[0].mountPath: Duplicate value: /etc/gpupool/preempt: the"
                + " operator mounts the preemption notice there",
            "spec.template.volumeMounts[1].mountPath: Duplicate value: /etc/gpupool/preempt: the"
                + " operator mounts the preemption notice there");
  }

  /**
   * What Kubernetes refuses in a pod's node selector requirements and tolerations, and the CRD
   * cannot say (its schema holds Kubernetes' own types, without enums or required fields): refused
   * as the API server would refuse the pods, naming the field, instead of a placement that throws
   * or a gang whose pods are refused at creation.
   */
  @Test
  void nodeRequirementsAndTolerationsKubernetesRefusesAreRefusedNamingTheField() {
    PodTemplate t = new PodTemplate();
    t.affinity =
        new io.fabric8.kubernetes.api.model.AffinityBuilder()
            .withNewNodeAffinity()
            .withNewRequiredDuringSchedulingIgnoredDuringExecution()
            .addNewNodeSelectorTerm()
            .addNewMatchExpression()
            .withKey("topology.kubernetes.io/region")
            .withValues("eu")
            .endMatchExpression()
            .addNewMatchExpression()
            .withOperator("In")
            .withValues("eu")
            .endMatchExpression()
            .addNewMatchExpression()
            .withKey("zone")
            .withOperator("Equal")
            .withValues("a")
            .endMatchExpression()
            .endNodeSelectorTerm()
            .addNewNodeSelectorTerm()
            .addNewMatchExpression()
            .withKey("zone")
            .withOperator("In")
            .endMatchExpression()
            .addNewMatchExpression()
            .withKey("spot")
            .withOperator("Exists")
            .withValues("yes")
            .endMatchExpression()
            .addNewMatchField()
            .withKey("metadata.name")
            .withOperator("Gt")
            .withValues("abc")
            .endMatchField()
            .endNodeSelectorTerm()
            .endRequiredDuringSchedulingIgnoredDuringExecution()
            .addNewPreferredDuringSchedulingIgnoredDuringExecution()
            .withWeight(1)
            .withNewPreference()
            .addNewMatchExpression()
            .withKey("zone")
            .endMatchExpression()
            .endPreference()
            .endPreferredDuringSchedulingIgnoredDuringExecution()
            .endNodeAffinity()
            .build();
    t.tolerations =
        List.of(
            new io.fabric8.kubernetes.api.model.TolerationBuilder()
                .withKey("spot")
                .withOperator("Exists")
                .withValue("yes")
                .build(),
            new io.fabric8.kubernetes.api.model.TolerationBuilder()
                .withKey("spot")
                .withOperator("In")
                .withEffect("Sometimes")
                .build());
    String required =
        "spec.template.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution";
    String preferred =
        "spec.template.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution";
    assertThat(problems(t))
        .containsExactly(
            required + ".nodeSelectorTerms[0].matchExpressions[0].operator: Required value",
            required + ".nodeSelectorTerms[0].matchExpressions[1].key: Required value",
            required
                + ".nodeSelectorTerms[0].matchExpressions[2].operator: Unsupported value:"
                + " \"Equal\": supported values: \"DoesNotExist\", \"Exists\", \"Gt\","
                + " \"In\", \"Lt\", \"NotIn\"",
            required
                + ".nodeSelectorTerms[1].matchExpressions[0].values: Required value: must be"
                + " specified when `operator` is 'In' or 'NotIn'",
            required
                + ".nodeSelectorTerms[1].matchExpressions[1].values: Forbidden: may not be"
                + " specified when `operator` is 'Exists' or 'DoesNotExist'",
            required
                + ".nodeSelectorTerms[1].matchFields[0].values[0]: Invalid value: \"abc\": must"
                + " be an integer for 'Gt' and 'Lt'",
            preferred + "[0].preference.matchExpressions[0].operator: Required value",
            "spec.template.tolerations[0].operator: Invalid value: \"Exists\": value must be"
                + " empty when `operator` is 'Exists'",
            "spec.template.tolerations[1].operator: Unsupported value: \"In\": supported"
                + " values: \"Equal\", \"Exists\"",
            "spec.template.tolerations[1].effect: Unsupported value: \"Sometimes\": supported"
                + " values: \"NoExecute\", \"NoSchedule\", \"PreferNoSchedule\"");
  }

  /**
   * The CRD stores any string in the template's labels and annotations; Kubernetes refuses a pod
   * whose label value or key is not a label: found by AcceptedSpecsPropertyTest (a pod with a
   * 77-character label value).
   */
  @Test
  void labelsAndAnnotationsKubernetesRefusesOnAPodAreRefused() {
    PodTemplate t = new PodTemplate();
    t.labels = new java.util.TreeMap<>(Map.of("team", "x".repeat(64), "ok", "", "a b", "v"));
    t.annotations = Map.of("example.com/note", "any text at all", "-bad", "v");
    assertThat(problems(t))
        .containsExactly(
            "spec.template.labels: Invalid value: \"a b\": a qualified name: an optional DNS"
                + " subdomain prefix and '/', then at most 63 alphanumeric characters, '-', '_' or"
                + " '.', starting and ending alphanumeric",
            "spec.template.labels: Invalid value: \""
                + "x".repeat(64)
                + "\": a label value: at most 63 alphanumeric characters, '-', '_' or '.',"
                + " starting and ending alphanumeric",
            "spec.template.annotations: Invalid value: \"-bad\": a qualified name: an optional"
                + " DNS subdomain prefix and '/', then at most 63 alphanumeric characters, '-', '_'"
                + " or '.', starting and ending alphanumeric");
  }

  @Test
  void theReservedNamesAreTheOnesTheOperatorUses() {
    assertThat(PodTemplate.PREEMPT_NOTICE_VOLUME).isEqualTo(PreemptNotice.VOLUME);
    assertThat(PodTemplate.PREEMPT_NOTICE_DIRECTORY).isEqualTo(PreemptNotice.DIRECTORY);
    assertThat(PodTemplate.MAIN_CONTAINER_NAMES)
        .containsExactlyInAnyOrder(TrainingGang.WORKER_CONTAINER, InferenceGroup.CONTAINER);
  }
}
