package io.gpupool.sandbox.pool;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpupool.sandbox.pool.PoolSpec.Gpu;
import io.gpupool.sandbox.pool.PoolSpec.NodeGroup;
import io.gpupool.sandbox.pool.PoolSpec.Provider;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** Reads and checks pool files. */
public final class PoolFile {

  /** Classpath location of the bundled default pool. */
  public static final String DEFAULT_POOL = "/pools/default-pool.yaml";

  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  private static final Pattern ADDRESS = Pattern.compile("^0x[0-9a-fA-F]{40}$");
  private static final Pattern PRICE = Pattern.compile("^[0-9]+(\\.[0-9]{1,18})?$");
  private static final Pattern DNS_LABEL = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
  private static final Set<String> STRATEGIES = Set.of("none", "time-slicing", "mps");

  private PoolFile() {}

  /** The pool bundled with the sandbox (24+ nodes, 5 providers, 3 regions). */
  public static PoolSpec loadDefault() {
    try (InputStream in = PoolFile.class.getResourceAsStream(DEFAULT_POOL)) {
      if (in == null) {
        throw new IllegalStateException("missing classpath resource " + DEFAULT_POOL);
      }
      return parse(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static PoolSpec load(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return parse(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read pool file " + file, e);
    }
  }

  /** Parses and validates; throws IllegalArgumentException listing every problem. */
  public static PoolSpec parse(InputStream in) throws IOException {
    // SnakeYAML directly: unlike Jackson's YAML parser it expands merge keys (<<: *anchor).
    Object tree = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
    PoolSpec spec;
    try {
      spec = MAPPER.convertValue(tree == null ? java.util.Map.of() : tree, PoolSpec.class);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid pool file: " + e.getMessage(), e);
    }
    List<String> problems = validate(spec);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("invalid pool file: " + String.join("; ", problems));
    }
    return spec;
  }

  public static PoolSpec parse(String yaml) {
    try {
      return parse(
          new java.io.ByteArrayInputStream(yaml.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    } catch (IOException e) {
      throw new IllegalArgumentException("invalid pool file: " + e.getMessage(), e);
    }
  }

  static List<String> validate(PoolSpec spec) {
    List<String> problems = new ArrayList<>();
    Set<String> providers = new HashSet<>();
    for (Provider p : spec.providers()) {
      String where = "providers[" + p.name() + "]";
      if (p.name() == null || !DNS_LABEL.matcher(p.name()).matches()) {
        problems.add(where + ": name must be a DNS label");
      } else if (!providers.add(p.name())) {
        problems.add(where + ": duplicate provider");
      }
      if (p.payoutAddress() == null || !ADDRESS.matcher(p.payoutAddress()).matches()) {
        problems.add(where + ": payoutAddress must be 0x followed by 40 hex digits");
      }
      if (p.stakePerGpu() != null && !PRICE.matcher(p.stakePerGpu()).matches()) {
        problems.add(where + ": stakePerGpu must be a decimal string");
      }
      if (p.prices() == null || p.prices().isEmpty()) {
        problems.add(where + ": prices must list at least one GPU product");
      } else {
        p.prices()
            .forEach(
                (product, price) -> {
                  if (price == null || !PRICE.matcher(price).matches()) {
                    problems.add(where + ": price of " + product + " must be a decimal string");
                  }
                });
      }
    }
    Set<String> prefixes = new HashSet<>();
    for (NodeGroup g : spec.nodeGroups()) {
      String where = "nodeGroups[" + g.namePrefix() + "]";
      if (g.namePrefix() == null || !DNS_LABEL.matcher(g.namePrefix()).matches()) {
        problems.add(where + ": namePrefix must be a DNS label");
      } else if (!prefixes.add(g.namePrefix())) {
        problems.add(where + ": duplicate namePrefix");
      }
      if (g.count() < 1) {
        problems.add(where + ": count must be at least 1");
      }
      if (g.provider() == null || !providers.contains(g.provider())) {
        problems.add(where + ": provider " + g.provider() + " is not listed under providers");
      }
      if (g.region() == null || g.zone() == null) {
        problems.add(where + ": region and zone are required");
      }
      Gpu gpu = g.gpu();
      if (gpu == null) {
        problems.add(where + ": gpu is required");
        continue;
      }
      if (gpu.product() == null || gpu.product().isBlank()) {
        problems.add(where + ": gpu.product is required");
      }
      if (gpu.count() < 1) {
        problems.add(where + ": gpu.count must be at least 1");
      }
      if (gpu.memoryMiB() < 1) {
        problems.add(where + ": gpu.memoryMiB must be positive");
      }
      if (gpu.family() == null) {
        problems.add(where + ": gpu.family is required");
      }
      if (gpu.sharing() != null) {
        if (!STRATEGIES.contains(gpu.sharing().strategy())) {
          problems.add(where + ": gpu.sharing.strategy must be none, time-slicing or mps");
        }
        if (gpu.sharing().shared() && gpu.sharing().replicas() < 2) {
          problems.add(where + ": gpu.sharing.replicas must be at least 2 when shared");
        }
      }
    }
    return problems;
  }
}
