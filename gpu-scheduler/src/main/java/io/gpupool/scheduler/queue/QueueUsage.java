package io.gpupool.scheduler.queue;

import java.util.Map;

/**
 * A queue's figures for its status and metrics.
 *
 * @param inUse GPUs held per flavor by admitted workloads
 * @param borrowed GPUs per flavor held beyond the nominal quota
 */
public record QueueUsage(
    String queue,
    int pending,
    int admitted,
    Map<String, Integer> inUse,
    Map<String, Integer> borrowed,
    double dominantShare) {}
