package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.GpupoolApi;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Load signal for tests: every ready leader of a job reports the in-flight count set for that job;
 * a job with no value set reports nothing. Replaces {@link HttpLoadSignal} in Quarkus tests.
 */
@ApplicationScoped
public class TestLoadSignal implements LoadSignal {
  private static final Map<String, Double> BY_JOB = new ConcurrentHashMap<>();

  /** Sets what each leader of {@code job} reports (null: nothing). */
  public static void set(String job, Double inFlight) {
    if (inFlight == null) {
      BY_JOB.remove(job);
    } else {
      BY_JOB.put(job, inFlight);
    }
  }

  @Override
  public OptionalDouble inFlight(Pod leader, int port, String metricsPath) {
    Double v = BY_JOB.get(leader.getMetadata().getLabels().get(GpupoolApi.JOB_NAME_LABEL));
    // as a server's gauge does, the canaries it is answering count among its in-flight requests
    return v == null
        ? OptionalDouble.empty()
        : OptionalDouble.of(v + TestCanaryClient.inFlight(leader));
  }
}
