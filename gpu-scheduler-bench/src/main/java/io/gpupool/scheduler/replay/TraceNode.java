package io.gpupool.scheduler.replay;

/** One node of an Alibaba-format node list ({@code sn,cpu_milli,memory_mib,gpu,model}). */
public record TraceNode(String name, long cpuMilli, long memoryMib, int gpus, String model) {}
