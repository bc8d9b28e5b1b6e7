package io.gpupool.operator.inference;

import io.gpupool.operator.config.GpupoolConfig;
import jakarta.inject.Singleton;
import java.time.Duration;

/**
 * What an InferenceJob's replica count follows: the load its replicas report, read every poll
 * interval (load has no events), and the metrics its scaling decisions are shown by.
 */
@Singleton
public class Autoscaling {
  private final LoadSignal load;
  private final InferenceMetrics metrics;
  private final Duration pollInterval;

  public Autoscaling(LoadSignal load, InferenceMetrics metrics, GpupoolConfig config) {
    this.load = load;
    this.metrics = metrics;
    this.pollInterval = config.inference().loadPollInterval();
  }

  LoadSignal load() {
    return load;
  }

  InferenceMetrics metrics() {
    return metrics;
  }

  Duration pollInterval() {
    return pollInterval;
  }
}
