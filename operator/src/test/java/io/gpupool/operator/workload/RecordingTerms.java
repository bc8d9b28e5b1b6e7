package io.gpupool.operator.workload;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A billing-terms recorder for tests of the binding path: notes the pods it recorded terms for and
 * writes annotation {@code terms: recorded} on them, so a test sees which pods were created with
 * their terms.
 */
public final class RecordingTerms implements UnaryOperator<List<Pod>> {
  /** Names of the pods whose terms were recorded, in order. */
  public final List<String> recorded = new ArrayList<>();

  @Override
  public List<Pod> apply(List<Pod> pods) {
    pods.forEach(p -> recorded.add(p.getMetadata().getName()));
    return pods.stream()
        .map(
            p ->
                new PodBuilder(p)
                    .editMetadata()
                    .addToAnnotations("terms", "recorded")
                    .endMetadata()
                    .build())
        .toList();
  }
}
