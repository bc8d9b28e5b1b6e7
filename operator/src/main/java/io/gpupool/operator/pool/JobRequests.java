package io.gpupool.operator.pool;

import io.fabric8.kubernetes.api.model.Quantity;
import io.gpupool.api.v1alpha1.GpuRequirements;
import io.gpupool.api.v1alpha1.ParallelismStrategy;
import io.gpupool.api.v1alpha1.PlacementPolicy;
import io.gpupool.api.v1alpha1.Precision;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import io.gpupool.operator.podtemplate.PodTemplateNodes;
import io.gpupool.operator.validation.ParameterCount;
import io.gpupool.scheduler.model.JobKind;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.ModelSpec;
import io.gpupool.scheduler.model.Strategy;
import java.math.BigDecimal;

/** Maps gpupool resources to the scheduler's requests. Pure; specs are validated before. */
public final class JobRequests {
  private JobRequests() {}

  /** The gang request of a training job, identified by its ledger key. */
  public static JobRequest training(String id, TrainingJob job) {
    TrainingJobSpec spec = job.getSpec();
    JobRequest.Builder b =
        JobRequest.builder(id, model(spec.model))
            .kind(JobKind.TRAINING)
            .strategy(strategy(spec.parallelism.strategy))
            .workers(
                spec.parallelism.workers,
                spec.parallelism.gpusPerWorker == null ? 1 : spec.parallelism.gpusPerWorker);
    if (spec.parallelism.minWorkers != null) {
      b.minWorkers(Math.min(spec.parallelism.minWorkers, spec.parallelism.workers));
    }
    resources(b, spec.resources);
    placement(b, spec.placement);
    b.preferredNodes(PodTemplateNodes.preferred(spec.template));
    return b.build();
  }

  static void resources(JobRequest.Builder b, GpuRequirements r) {
    if (r == null) {
      return;
    }
    if (r.gpuModels != null && !r.gpuModels.isEmpty()) {
      b.products(r.gpuModels.toArray(String[]::new));
    }
    if (r.minGpuMemoryMiB != null) {
      b.minGpuMemoryMib(r.minGpuMemoryMiB);
    }
    long cpu =
        r.cpu == null
            ? 0
            : atMost(Quantity.getAmountInBytes(new Quantity(r.cpu)).movePointRight(3));
    long mem =
        r.memory == null ? 0 : atMost(Quantity.getAmountInBytes(new Quantity(r.memory))) >> 20;
    b.perWorker(cpu, mem);
  }

  /**
   * A request as a long, saturated far above any node (a schema-valid {@code 999999999E} would
   * otherwise wrap negative): such a job is simply unplaceable.
   */
  private static long atMost(BigDecimal amount) {
    BigDecimal cap = BigDecimal.valueOf(1L << 50);
    return amount.compareTo(cap) > 0 ? 1L << 50 : amount.longValue();
  }

  static void placement(JobRequest.Builder b, PlacementPolicy p) {
    if (p == null) {
      return;
    }
    if (p.regions != null && !p.regions.isEmpty()) {
      b.regions(p.regions.toArray(String[]::new));
    }
    if (p.maxPricePerGpuHour != null) {
      b.maxPricePerGpuHour(Double.parseDouble(p.maxPricePerGpuHour));
    }
    if (p.minReliability != null) {
      b.minReliability(p.minReliability);
    }
  }

  static ModelSpec model(io.gpupool.api.v1alpha1.ModelSpec m) {
    return new ModelSpec(
        ParameterCount.parse(m.parameters),
        m.layers,
        bytes(m.precision),
        m.hiddenSize == null ? 0 : m.hiddenSize,
        m.sequenceLength == null ? 0 : m.sequenceLength,
        m.globalBatchSize == null ? 0 : m.globalBatchSize);
  }

  /** Bytes per value; 4-bit weights round up to one byte (a conservative memory estimate). */
  static int bytes(Precision p) {
    if (p == null) {
      return 2;
    }
    return switch (p) {
      case fp32 -> 4;
      case bf16, fp16 -> 2;
      case fp8, int8, int4 -> 1;
    };
  }

  static Strategy strategy(ParallelismStrategy s) {
    if (s == null) {
      return Strategy.AUTO;
    }
    return switch (s) {
      case DataParallel -> Strategy.DATA_PARALLEL;
      case PipelineParallel -> Strategy.PIPELINE_PARALLEL;
      case Auto -> Strategy.AUTO;
    };
  }

  /** The API's name for a scheduler strategy. */
  public static String apiName(Strategy s) {
    return switch (s) {
      case DATA_PARALLEL -> ParallelismStrategy.DataParallel.name();
      case PIPELINE_PARALLEL -> ParallelismStrategy.PipelineParallel.name();
      case AUTO -> ParallelismStrategy.Auto.name();
    };
  }
}
