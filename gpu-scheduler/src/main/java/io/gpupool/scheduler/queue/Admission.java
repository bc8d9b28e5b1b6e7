package io.gpupool.scheduler.queue;

import java.util.Set;

/** A decision to admit: the workload may be placed on GPUs of {@code products}. */
public record Admission(String workloadId, String queue, String flavor, Set<String> products) {}
