package io.gpupool.operator.podtemplate;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirementBuilder;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.gpupool.api.v1alpha1.PodTemplate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PodTemplateNodesTest {
  private static final Map<String, String> H100 =
      Map.of(
          "nvidia.com/gpu.product",
          "NVIDIA-H100-80GB-HBM3",
          "topology.kubernetes.io/region",
          "eu",
          "gpu.count",
          "8");

  private static NodeSelectorRequirement req(String key, String operator, List<String> values) {
    return new NodeSelectorRequirementBuilder()
        .withKey(key)
        .withOperator(operator)
        .withValues(values)
        .build();
  }

  private static Taint taint(String key, String value, String effect) {
    return new TaintBuilder().withKey(key).withValue(value).withEffect(effect).build();
  }

  @Test
  void noTemplateAdmitsEveryUntaintedOrGpuTaintedNode() {
    assertThat(PodTemplateNodes.admits(null, "n", H100, List.of())).isTrue();
    assertThat(
            PodTemplateNodes.admits(
                null, "n", H100, List.of(taint("nvidia.com/gpu", "present", "NoSchedule"))))
        .as("the operator's own toleration")
        .isTrue();
    assertThat(
            PodTemplateNodes.admits(
                null, "n", H100, List.of(taint("dedicated", "team-a", "NoSchedule"))))
        .isFalse();
    assertThat(
            PodTemplateNodes.admits(
                null, "n", H100, List.of(taint("dedicated", "team-a", "PreferNoSchedule"))))
        .as("a preference is not a barrier")
        .isTrue();
  }

  @Test
  void nodeSelectorNeedsEveryLabel() {
    PodTemplate t = new PodTemplate();
    t.nodeSelector = Map.of("topology.kubernetes.io/region", "eu");
    assertThat(PodTemplateNodes.admits(t, "n", H100, null)).isTrue();
    t.nodeSelector =
        Map.of("topology.kubernetes.io/region", "eu", "nvidia.com/gpu.product", "RTX-4090");
    assertThat(PodTemplateNodes.admits(t, "n", H100, null)).isFalse();
    assertThat(PodTemplateNodes.admits(t, "n", null, null)).isFalse();
  }

  @Test
  void requiredAffinityTermsAreOredAndTheirRequirementsAnded() {
    PodTemplate t = new PodTemplate();
    t.affinity =
        new AffinityBuilder()
            .withNewNodeAffinity()
            .withNewRequiredDuringSchedulingIgnoredDuringExecution()
            .addNewNodeSelectorTerm()
            .addToMatchExpressions(req("topology.kubernetes.io/region", "In", List.of("us")))
            .endNodeSelectorTerm()
            .addNewNodeSelectorTerm()
            .addToMatchExpressions(req("topology.kubernetes.io/region", "In", List.of("eu", "ap")))
            .addToMatchExpressions(req("gpu.count", "Gt", List.of("4")))
            .addToMatchExpressions(req("spot", "DoesNotExist", List.of()))
            .endNodeSelectorTerm()
            .endRequiredDuringSchedulingIgnoredDuringExecution()
            .endNodeAffinity()
            .build();
    assertThat(PodTemplateNodes.admits(t, "n", H100, null)).isTrue();
    assertThat(PodTemplateNodes.admits(t, "n", Map.of("topology.kubernetes.io/region", "eu"), null))
        .as("Gt needs the label")
        .isFalse();

    t.affinity =
        new AffinityBuilder()
            .withNewNodeAffinity()
            .withNewRequiredDuringSchedulingIgnoredDuringExecution()
            .addNewNodeSelectorTerm()
            .addToMatchFields(req("metadata.name", "NotIn", List.of("bad-node")))
            .endNodeSelectorTerm()
            .endRequiredDuringSchedulingIgnoredDuringExecution()
            .endNodeAffinity()
            .build();
    assertThat(PodTemplateNodes.admits(t, "good-node", H100, null)).isTrue();
    assertThat(PodTemplateNodes.admits(t, "bad-node", H100, null)).isFalse();
  }

  /**
   * The CRD cannot require a requirement's key and operator (Kubernetes' own types), so a stored
   * template may lack them: the placement asks about every node and must get an answer (none
   * admitted), not an exception that wedges every reconcile of the job. Validation refuses such a
   * template with SpecValid=False (PodTemplateRulesTest).
   */
  @Test
  void aRequirementWithoutOperatorOrKeyAdmitsNoNodeInsteadOfThrowing() {
    for (NodeSelectorRequirement r :
        List.of(
            req("topology.kubernetes.io/region", null, List.of("eu")),
            req(null, "In", List.of("eu")),
            req(null, "DoesNotExist", List.of()))) {
      PodTemplate t = new PodTemplate();
      t.affinity =
          new AffinityBuilder()
              .withNewNodeAffinity()
              .withNewRequiredDuringSchedulingIgnoredDuringExecution()
              .addNewNodeSelectorTerm()
              .addToMatchExpressions(r)
              .endNodeSelectorTerm()
              .endRequiredDuringSchedulingIgnoredDuringExecution()
              .endNodeAffinity()
              .build();
      assertThat(PodTemplateNodes.admits(t, "n", H100, null)).as("%s", r).isFalse();
      assertThat(PodTemplateNodes.admits(t, "n", null, null)).as("%s", r).isFalse();
    }
  }

  @Test
  void tolerationsOpenTaintedNodes() {
    PodTemplate t = new PodTemplate();
    t.tolerations =
        List.of(
            new TolerationBuilder()
                .withKey("dedicated")
                .withOperator("Equal")
                .withValue("team-a")
                .withEffect("NoSchedule")
                .build());
    assertThat(
            PodTemplateNodes.admits(
                t, "n", H100, List.of(taint("dedicated", "team-a", "NoSchedule"))))
        .isTrue();
    assertThat(
            PodTemplateNodes.admits(
                t, "n", H100, List.of(taint("dedicated", "team-b", "NoSchedule"))))
        .isFalse();
    assertThat(
            PodTemplateNodes.admits(
                t, "n", H100, List.of(taint("dedicated", "team-a", "NoExecute"))))
        .as("the toleration names one effect")
        .isFalse();
  }
}
