package io.gpupool.operator.training;

/**
 * One rank of a planned gang, in the operator's terms: the scheduler's plan mapped onto a node.
 *
 * @param gpuResource the device-plugin resource to request ({@code nvidia.com/gpu}, or {@code
 *     nvidia.com/gpu.shared} where sharing is renamed)
 * @param stage pipeline stage index, or -1 for data parallel
 * @param firstLayer first layer of the stage (inclusive), -1 when not a pipeline
 * @param lastLayer last layer of the stage (inclusive), -1 when not a pipeline
 * @param batchShare fraction of each global batch this rank processes
 */
public record RankAssignment(
    int rank,
    String node,
    String provider,
    String region,
    String gpuProduct,
    int gpus,
    String gpuResource,
    int stage,
    int firstLayer,
    int lastLayer,
    double batchShare) {}
