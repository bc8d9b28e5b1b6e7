package io.gpupool.operator.inference;

/**
 * One shard (pod) of an inference replica group, placed on a node.
 *
 * @param shard index inside the group; 0 is the leader (first pipeline stage)
 * @param groupSize shards in the group (pipeline parallel size)
 * @param gpus GPUs the shard's tensor-parallel ranks use (1 for a GPU share)
 * @param gpuMilli 1000 for whole GPUs, else the share of one GPU in thousandths
 * @param slots device-plugin units the pod requests
 * @param gpuResource the device-plugin resource ({@code nvidia.com/gpu} or {@code
 *     nvidia.com/gpu.shared})
 * @param firstLayer first layer held (inclusive)
 * @param lastLayer last layer held (inclusive)
 */
public record ShardAssignment(
    int replica,
    int shard,
    int groupSize,
    String node,
    String provider,
    String region,
    String gpuProduct,
    int gpus,
    int gpuMilli,
    int slots,
    String gpuResource,
    int firstLayer,
    int lastLayer) {

  public boolean leader() {
    return shard == 0;
  }
}
