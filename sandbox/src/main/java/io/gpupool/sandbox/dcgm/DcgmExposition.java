package io.gpupool.sandbox.dcgm;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Renders readings in the Prometheus text format with dcgm-exporter's default counters, names,
 * types and labels: {@code gpu}, {@code UUID}, {@code pci_bus_id}, {@code device}, {@code
 * modelName}, {@code Hostname}, {@code DCGM_FI_DRIVER_VERSION}, and {@code container}, {@code
 * namespace}, {@code pod} for a GPU a pod holds.
 */
final class DcgmExposition {
  /** One metric family. */
  private record Family(
      String name, String type, String help, Function<GpuReading, String> value) {}

  private static final List<Family> FAMILIES =
      List.of(
          new Family(
              "DCGM_FI_DEV_SM_CLOCK",
              "gauge",
              "SM clock frequency (in MHz).",
              r -> Integer.toString(r.smClockMhz())),
          new Family(
              "DCGM_FI_DEV_GPU_TEMP",
              "gauge",
              "GPU temperature (in C).",
              r -> Integer.toString(r.temperatureCelsius())),
          new Family(
              "DCGM_FI_DEV_POWER_USAGE",
              "gauge",
              "Power draw (in W).",
              r -> Double.toString(r.powerWatts())),
          new Family(
              "DCGM_FI_DEV_GPU_UTIL",
              "gauge",
              "GPU utilization (in %).",
              r -> Integer.toString(r.utilizationPercent())),
          new Family(
              "DCGM_FI_DEV_MEM_COPY_UTIL",
              "gauge",
              "Memory utilization (in %).",
              r -> Integer.toString(r.memCopyUtilPercent())),
          new Family(
              "DCGM_FI_DEV_FB_FREE",
              "gauge",
              "Framebuffer memory free (in MiB).",
              r -> Long.toString(r.fbFreeMiB())),
          new Family(
              "DCGM_FI_DEV_FB_USED",
              "gauge",
              "Framebuffer memory used (in MiB).",
              r -> Long.toString(r.fbUsedMiB())),
          new Family(
              "DCGM_FI_DEV_XID_ERRORS",
              "gauge",
              "Value of the last XID error encountered.",
              r -> Integer.toString(r.lastXid())),
          new Family(
              "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
              "gauge",
              "Ratio of time the graphics engine is active.",
              r -> Double.toString(r.graphicsEngineActive())),
          new Family(
              "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
              "gauge",
              "Ratio of cycles the tensor (HMMA) pipe is active.",
              r -> Double.toString(r.tensorPipeActive())));

  static final String ENERGY = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION";

  private DcgmExposition() {}

  /**
   * The exposition of {@code readings}; {@code energyMillijoules} gives each GPU's (by UUID) energy
   * counter, GPUs missing from it are left out of that family.
   */
  static String render(List<GpuReading> readings, Map<String, Long> energyMillijoules) {
    StringBuilder out = new StringBuilder();
    for (Family f : FAMILIES) {
      header(out, f.name(), f.type(), f.help());
      for (GpuReading r : readings) {
        sample(out, f.name(), r, f.value().apply(r));
      }
    }
    header(out, ENERGY, "counter", "Total energy consumption since boot (in mJ).");
    for (GpuReading r : readings) {
      Long mj = energyMillijoules.get(r.uuid());
      if (mj != null) {
        sample(out, ENERGY, r, Long.toString(mj));
      }
    }
    return out.toString();
  }

  private static void header(StringBuilder out, String name, String type, String help) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private static void sample(StringBuilder out, String name, GpuReading r, String value) {
    out.append(name).append('{');
    label(out, "gpu", Integer.toString(r.gpu())).append(',');
    label(out, "UUID", r.uuid()).append(',');
    label(out, "pci_bus_id", r.pciBusId()).append(',');
    label(out, "device", "nvidia" + r.gpu()).append(',');
    label(out, "modelName", r.modelName()).append(',');
    label(out, "Hostname", r.hostname()).append(',');
    label(out, "DCGM_FI_DRIVER_VERSION", r.driverVersion());
    if (r.holder() != null) {
      out.append(',');
      label(out, "container", r.holder().container()).append(',');
      label(out, "namespace", r.holder().namespace()).append(',');
      label(out, "pod", r.holder().pod());
    }
    out.append("} ").append(value).append('\n');
  }

  private static StringBuilder label(StringBuilder out, String name, String value) {
    String v = value == null ? "" : value;
    out.append(name).append("=\"");
    for (char c : v.toCharArray()) {
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '"' -> out.append("\\\"");
        case '\n' -> out.append("\\n");
        default -> out.append(c);
      }
    }
    return out.append('"');
  }
}
