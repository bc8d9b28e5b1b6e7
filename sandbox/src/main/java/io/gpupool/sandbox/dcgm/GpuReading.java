package io.gpupool.sandbox.dcgm;

/**
 * One GPU's values at one instant, with the identity labels dcgm-exporter attaches.
 *
 * @param holder the pod the GPU is attributed to (the earliest of those sharing it), or null
 */
record GpuReading(
    String hostname,
    int gpu,
    String uuid,
    String pciBusId,
    String modelName,
    String driverVersion,
    GpuClaim holder,
    int utilizationPercent,
    int memCopyUtilPercent,
    long fbUsedMiB,
    long fbFreeMiB,
    int temperatureCelsius,
    double powerWatts,
    int smClockMhz,
    int lastXid,
    double graphicsEngineActive,
    double tensorPipeActive) {}
