package io.gpupool.scheduler.replay;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reads Alibaba cluster-trace-gpu-v2023 CSV files, locating columns by their header names. */
public final class TraceReader {
  private TraceReader() {}

  /** Reads a node list; CPU-only rows (no GPU) are kept with {@code gpus = 0}. */
  public static List<TraceNode> nodes(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file);
    Map<String, Integer> col = header(lines.get(0));
    List<TraceNode> out = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      if (line.isBlank()) {
        continue;
      }
      String[] f = line.split(",", -1);
      out.add(
          new TraceNode(
              f[col.get("sn")],
              Long.parseLong(f[col.get("cpu_milli")]),
              Long.parseLong(f[col.get("memory_mib")]),
              Integer.parseInt(f[col.get("gpu")]),
              get(f, col, "model")));
    }
    return out;
  }

  /** Reads a pod list; {@code gpu_spec} is optional (absent in some files). */
  public static List<TracePod> pods(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file);
    Map<String, Integer> col = header(lines.get(0));
    List<TracePod> out = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      if (line.isBlank()) {
        continue;
      }
      String[] f = line.split(",", -1);
      String spec = get(f, col, "gpu_spec");
      List<String> models =
          spec.isEmpty() ? List.of() : Arrays.stream(spec.split("\\|")).distinct().toList();
      out.add(
          new TracePod(
              f[col.get("name")],
              Long.parseLong(f[col.get("cpu_milli")]),
              Long.parseLong(f[col.get("memory_mib")]),
              Integer.parseInt(f[col.get("num_gpu")]),
              Integer.parseInt(f[col.get("gpu_milli")]),
              models));
    }
    return out;
  }

  private static Map<String, Integer> header(String line) {
    Map<String, Integer> col = new HashMap<>();
    String[] h = line.trim().split(",");
    for (int i = 0; i < h.length; i++) {
      col.put(h[i].trim(), i);
    }
    return col;
  }

  private static String get(String[] f, Map<String, Integer> col, String name) {
    Integer i = col.get(name);
    return i == null || i >= f.length ? "" : f[i].trim();
  }
}
