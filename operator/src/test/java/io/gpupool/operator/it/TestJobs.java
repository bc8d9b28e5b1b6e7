package io.gpupool.operator.it;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.Checkpoint;
import io.gpupool.api.v1alpha1.GpuRequirements;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.Parallelism;
import io.gpupool.api.v1alpha1.ParallelismStrategy;
import io.gpupool.api.v1alpha1.PlacementPolicy;
import io.gpupool.api.v1alpha1.ReplicaRange;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import java.util.List;

/**
 * The jobs the ITs submit: the smallest specs the operator runs, pinned to one region so each test
 * keeps to its own nodes. A test sets what it is about (budget, queue, verification) on the result.
 */
final class TestJobs {
  private TestJobs() {}

  /**
   * A data-parallel TrainingJob of {@code workers} one-GPU workers (a 1B model), checkpointing to
   * {@code s3://ckpt/<name>}.
   */
  static TrainingJob training(String namespace, String name, String region, int workers) {
    TrainingJob job = new TrainingJob();
    job.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
    TrainingJobSpec spec = new TrainingJobSpec();
    spec.image = "ghcr.io/example/train:1";
    spec.parallelism = new Parallelism();
    spec.parallelism.strategy = ParallelismStrategy.DataParallel;
    spec.parallelism.workers = workers;
    spec.parallelism.gpusPerWorker = 1;
    spec.model = new ModelSpec();
    spec.model.parameters = "1B";
    spec.model.layers = 24;
    spec.resources = new GpuRequirements();
    spec.placement = new PlacementPolicy();
    spec.placement.regions = List.of(region);
    spec.checkpoint = new Checkpoint();
    spec.checkpoint.uri = "s3://ckpt/" + name;
    job.setSpec(spec);
    return job;
  }

  /**
   * An InferenceJob serving a 1B model on port 8000, between {@code min} and {@code max} replicas.
   */
  static InferenceJob serving(String namespace, String name, String region, int min, int max) {
    InferenceJob job = new InferenceJob();
    job.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
    InferenceJobSpec spec = new InferenceJobSpec();
    spec.image = "ghcr.io/example/serve:1";
    spec.port = 8000;
    spec.model = new ModelSpec();
    spec.model.parameters = "1B";
    spec.model.layers = 16;
    spec.replicas = new ReplicaRange();
    spec.replicas.min = min;
    spec.replicas.max = max;
    spec.placement = new PlacementPolicy();
    spec.placement.regions = List.of(region);
    job.setSpec(spec);
    return job;
  }
}
