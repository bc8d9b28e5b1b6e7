package io.gpupool.operator.metrics;

import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * The Java Operator SDK's metrics (operator_sdk_*) per controller, not per resource. The Quarkus
 * extension's default keeps a timer and several counters tagged with each resource's name for as
 * long as the resource exists: with 2,000 TrainingJobs that was 2,064 timers, 10,307 counters and
 * about 50 MB of the operator's live heap (docs/benchmarks.md), growing with every job, for series
 * Prometheus did not even receive (the namespaced resources' tag set differs from the
 * cluster-scoped ones'). gpupool's own metrics say what is wanted per job.
 */
public class ControllerMetricsProducer {
  @Produces
  @Singleton
  Metrics controllerMetrics(MeterRegistry registry) {
    return MicrometerMetrics.withoutPerResourceMetrics(registry);
  }
}
