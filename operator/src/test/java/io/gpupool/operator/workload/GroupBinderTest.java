package io.gpupool.operator.workload;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.gpupool.operator.training.TrainingGang;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** The binder on the write port's fake: groups are created whole or not at all. */
class GroupBinderTest {
  private static final Service SERVICE =
      new ServiceBuilder().withNewMetadata().withName("job").endMetadata().build();

  private static Pod pod(String name, String generation, String node) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels(TrainingGang.GENERATION_LABEL, generation)
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .endSpec()
        .build();
  }

  private static GroupBinder.Group gang(Pod... pods) {
    return gang(List.of(pods), UnaryOperator.identity());
  }

  private static GroupBinder.Group gang(List<Pod> pods, UnaryOperator<List<Pod>> recordTerms) {
    return new GroupBinder.Group(
        "uid", "gang", "ns", List.of(SERVICE), pods, recordTerms, TrainingGang::sameRank);
  }

  @Test
  void createsTheServiceAndEveryPod() {
    FakeWorkloads workloads = new FakeWorkloads();
    GroupBinder binder = new GroupBinder(workloads, new SimpleMeterRegistry());
    assertThat(binder.create(gang(pod("job-0", "0", "a"), pod("job-1", "0", "b")))).isEmpty();
    assertThat(workloads.pods).containsOnlyKeys("job-0", "job-1");
    assertThat(workloads.services).containsOnlyKeys("job");
  }

  @Test
  void aPodThatCannotBeCreatedRollsTheGangBack() {
    FakeWorkloads workloads = new FakeWorkloads().failPodNumber(2);
    GroupBinder binder = new GroupBinder(workloads, new SimpleMeterRegistry());
    assertThat(binder.create(gang(pod("job-0", "0", "a"), pod("job-1", "0", "b"))))
        .hasValueSatisfying(why -> assertThat(why).startsWith("gang rolled back after 1 of 2"));
    assertThat(workloads.pods).isEmpty();
  }

  @Test
  void aRetriedBindingAdoptsItsOwnPodButNotAnotherGenerationsOrNodes() {
    FakeWorkloads workloads = new FakeWorkloads();
    GroupBinder binder = new GroupBinder(workloads, new SimpleMeterRegistry());
    binder.create(gang(pod("job-0", "1", "a")));
    assertThat(binder.create(gang(pod("job-0", "1", "a")))).isEmpty();
    assertThat(binder.create(gang(pod("job-0", "1", "b")))).isPresent();
    assertThat(binder.create(gang(pod("job-0", "2", "a")))).isPresent();
  }

  @Test
  void thePodsCreatedAreThoseTheTermsWereRecordedFor() {
    FakeWorkloads workloads = new FakeWorkloads();
    GroupBinder binder = new GroupBinder(workloads, new SimpleMeterRegistry());
    RecordingTerms recorded = new RecordingTerms();
    GroupBinder.Group gang =
        gang(List.of(pod("job-0", "0", "a"), pod("job-1", "0", "b")), recorded);
    assertThat(binder.create(gang)).isEmpty();
    assertThat(recorded.recorded).containsExactly("job-0", "job-1");
    assertThat(workloads.pods.values())
        .allSatisfy(
            p -> assertThat(p.getMetadata().getAnnotations()).containsEntry("terms", "recorded"));
  }

  @Test
  void termsThatCannotBeRecordedCreateNothingAndSayWhy() {
    FakeWorkloads workloads = new FakeWorkloads();
    GroupBinder binder = new GroupBinder(workloads, new SimpleMeterRegistry());
    GroupBinder.Group gang =
        gang(
            List.of(pod("job-0", "0", "a")),
            pods -> {
              throw new IllegalStateException("usage record not written: 503");
            });
    assertThat(binder.create(gang))
        .hasValueSatisfying(
            why ->
                assertThat(why)
                    .contains("billing terms were not recorded")
                    .contains("usage record not written: 503"));
    assertThat(workloads.pods).isEmpty();
    assertThat(workloads.services).isEmpty();
  }
}
