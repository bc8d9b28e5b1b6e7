package io.gpupool.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.gpupool.api.v1alpha1.ModelWeightsSource;
import io.gpupool.api.v1alpha1.PodTemplate;
import java.util.List;
import org.junit.jupiter.api.Test;

/** spec.weights: bad values and clashes with the pod template are refused, naming the field. */
class WeightsRulesTest {
  private static ModelWeightsSource weights(String uri, Integer sizeGiB, String mountPath) {
    ModelWeightsSource w = new ModelWeightsSource();
    w.uri = uri;
    w.sizeGiB = sizeGiB;
    w.mountPath = mountPath;
    return w;
  }

  private static List<String> problems(ModelWeightsSource w, PodTemplate t) {
    SpecProblems p = new SpecProblems();
    WeightsRules.check(p, w, t);
    return p.list();
  }

  @Test
  void wellFormedWeightsAndNoWeightsPass() {
    assertThat(problems(weights("hf://meta-llama/Llama-2-70b-chat-hf", 130, null), null)).isEmpty();
    assertThat(problems(weights("s3://models/llama/", 1, "/models"), new PodTemplate())).isEmpty();
    assertThat(problems(null, null)).isEmpty();
  }

  @Test
  void badValuesNameTheirField() {
    assertThat(problems(weights("meta-llama/Llama-2", 0, "models"), null))
        .anySatisfy(m -> assertThat(m).startsWith("spec.weights.uri: Invalid value"))
        .anySatisfy(m -> assertThat(m).startsWith("spec.weights.sizeGiB"))
        .anySatisfy(m -> assertThat(m).startsWith("spec.weights.mountPath: Invalid value"));
    assertThat(problems(weights(null, null, "/dev/shm"), null))
        .contains(
            "spec.weights.uri: Required value: where the weights come from",
            "spec.weights.sizeGiB: Required value: size of the weights in GiB")
        .anySatisfy(m -> assertThat(m).startsWith("spec.weights.mountPath"));
    assertThat(problems(weights("hf://a b", 1, null), null))
        .anySatisfy(m -> assertThat(m).startsWith("spec.weights.uri"));
  }

  @Test
  void theTemplateMayNotTakeTheWeightsVolumeItsMountOrItsFetcher() {
    PodTemplate t = new PodTemplate();
    t.volumes =
        List.of(
            new VolumeBuilder()
                .withName("gpupool-weights")
                .withNewEmptyDir()
                .endEmptyDir()
                .build());
    t.volumeMounts =
        List.of(
            new VolumeMountBuilder()
                .withName("gpupool-weights")
                .withMountPath("/mnt/models")
                .build());
    t.initContainers =
        List.of(new ContainerBuilder().withName("fetch-weights").withImage("x").build());
    assertThat(problems(weights("hf://m", 1, null), t))
        .containsExactly(
            "spec.template.volumes[0].name: Forbidden: gpupool-weights is the operator's weights"
                + " volume",
            "spec.template.volumeMounts[0].mountPath: Duplicate value: /mnt/models:"
                + " spec.weights.mountPath mounts the weights there",
            "spec.template.initContainers[0].name: Forbidden: fetch-weights is the operator's"
                + " weights fetcher");
    assertThat(problems(null, t)).as("without weights the names are the template's").isEmpty();
  }
}
