package io.gpupool.scheduler.queue;

import java.util.List;
import java.util.Map;

/**
 * What one admission cycle decided.
 *
 * @param waiting blocked heads of their queues and why (capacity held, preemption under way)
 * @param inadmissible workloads no quota can ever cover, and why: those found so in this cycle; one
 *     reported by an earlier cycle is not reported again while no queue definition changed
 * @param examined pending workloads looked at
 */
public record CycleResult(
    List<Admission> admitted,
    List<Preemption> preempted,
    Map<String, String> waiting,
    Map<String, String> inadmissible,
    int examined) {}
