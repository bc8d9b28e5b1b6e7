package io.gpupool.operator.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeSpecBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.gpupool.api.v1alpha1.GpuPrice;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.api.v1alpha1.GpuProviderSpec;
import io.gpupool.api.v1alpha1.GpuProviderStatus;
import io.gpupool.api.v1alpha1.PodTemplate;
import io.gpupool.api.v1alpha1.Reliability;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.it.TestNodes;
import io.gpupool.operator.trust.TrustLedger;
import io.gpupool.operator.watch.ClusterWatches;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.trust.ChallengeVerdict;
import io.gpupool.scheduler.trust.ChallengeVerdict.Outcome;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pool view kept between placements must always equal a view built afresh from the same nodes,
 * providers, verdicts and stakes: over random changes of every kind, and it is not rebuilt when
 * nothing changed.
 */
class KeptPoolViewsTest {
  private static final String[] PRODUCTS = {
    "NVIDIA-GeForce-RTX-4090", "NVIDIA-A100-SXM4-80GB", "NVIDIA-H100-80GB-HBM3"
  };
  private static final String[] PROVIDERS = {"p0", "p1", "p2", "p3"};

  private final KubernetesClient client =
      new KubernetesClientBuilder()
          .withConfig(new ConfigBuilder().withMasterUrl("http://127.0.0.1:9").build())
          .build();
  private final NodeInventory inventory = new NodeInventory(new ClusterWatches(client));
  private final TrustLedger trust = new TrustLedger();
  private final Map<String, GpuProvider> providers = new HashMap<>();
  private final Set<String> stakeShort = new HashSet<>();
  private final AtomicLong stakeReadings = new AtomicLong();
  private final Random random = new Random(16);

  private final PoolSources sources =
      new PoolSources(
          inventory,
          () -> List.copyOf(providers.values()),
          this::price,
          p -> Optional.ofNullable(providers.get(p)).map(KeptPoolViewsTest::score).orElse(1.0),
          trust,
          this::stakeExclusions,
          stakeReadings::get);
  private final KeptPoolViews kept = new KeptPoolViews(sources);

  @AfterEach
  void close() {
    client.close();
  }

  @Test
  void theKeptViewEqualsAFreshOneOverRandomChanges() {
    for (String p : PROVIDERS) {
      providers.put(p, provider(p, 1.0, PRODUCTS));
    }
    for (int i = 0; i < 40; i++) {
      inventory.update(node("n" + i));
    }
    List<PodTemplate> templates = templates();
    int unchanged = 0;
    for (int step = 0; step < 200; step++) {
      boolean changed = change(step);
      long builds = kept.builds();
      Map<String, PoolView> before = new HashMap<>();
      for (boolean sharing : new boolean[] {false, true}) {
        for (int t = 0; t < templates.size(); t++) {
          PoolView view = kept.view(sharing, templates.get(t));
          before.put(sharing + "/" + t, view);
          assertEqual(step, view, sources.build(sharing, templates.get(t)));
        }
      }
      if (!changed) {
        unchanged++;
        assertThat(kept.builds())
            .as("step %d changed nothing: no view rebuilt", step)
            .isEqualTo(builds);
      }
      for (boolean sharing : new boolean[] {false, true}) {
        for (int t = 0; t < templates.size(); t++) {
          assertThat(kept.view(sharing, templates.get(t)))
              .as("asked again with nothing changed")
              .isSameAs(before.get(sharing + "/" + t));
        }
      }
    }
    assertThat(unchanged).isGreaterThan(10);
  }

  /** One random change of the pool; false when the step changed nothing. */
  private boolean change(int step) {
    String node = "n" + random.nextInt(48);
    String provider = PROVIDERS[random.nextInt(PROVIDERS.length)];
    String product = PRODUCTS[random.nextInt(PRODUCTS.length)];
    switch (random.nextInt(10)) {
      case 0, 1 -> inventory.update(node(node));
      case 2 -> inventory.remove(node);
      case 3 -> // a new price list (an informer replaces the object)
          providers.put(
              provider,
              provider(
                  provider,
                  score(providers.get(provider)),
                  random.nextBoolean() ? PRODUCTS : new String[] {product}));
      case 4 ->
          providers.put(
              provider, provider(provider, 0.5 + random.nextInt(50) / 100.0, pricedBy(provider)));
      case 5 ->
          trust.record(
              node,
              provider,
              claimed(node),
              random.nextBoolean()
                  ? new ChallengeVerdict(Outcome.WRONG_RESULT, "wrong")
                  : new ChallengeVerdict(Outcome.SLOWER, "slower", 0.25 + random.nextInt(3) / 4.0),
              Instant.parse("2026-12-06T00:00:00Z").plusSeconds(step),
              Duration.ofHours(1));
      case 6 -> trust.forget(node);
      case 7 -> {
        if (!stakeShort.remove(provider)) {
          stakeShort.add(provider);
        }
        stakeReadings.incrementAndGet();
      }
      case 8 -> trust.quarantineForWork(node, provider, claimed(node), "wrong canary");
      default -> {
        return false;
      }
    }
    return true;
  }

  private static void assertEqual(int step, PoolView kept, PoolView fresh) {
    Map<String, Map<String, Integer>> none = Map.of();
    PoolSnapshot a = kept.snapshot(none);
    PoolSnapshot b = fresh.snapshot(none);
    assertThat(a.nodes()).as("nodes after step %d", step).isEqualTo(b.nodes());
    assertThat(a.exclusions()).as("exclusions after step %d", step).isEqualTo(b.exclusions());
    assertThat(kept.notOffered())
        .as("not offered after step %d", step)
        .isEqualTo(fresh.notOffered());
  }

  private String claimed(String node) {
    return inventory.node(node).map(GpuNode::product).orElse(PRODUCTS[0]);
  }

  private String[] pricedBy(String provider) {
    return providers.get(provider).getSpec().prices.stream()
        .map(p -> p.gpuProduct)
        .toArray(String[]::new);
  }

  /** A node of random provider, product, size, team label and taint. */
  private Node node(String name) {
    Node n =
        TestNodes.gpuNode(
            name,
            PROVIDERS[random.nextInt(PROVIDERS.length)],
            PRODUCTS[random.nextInt(PRODUCTS.length)],
            1 + random.nextInt(8),
            81920,
            "eu");
    n.getMetadata().getLabels().put("team", random.nextBoolean() ? "a" : "b");
    if (random.nextInt(4) == 0) {
      n.setSpec(
          new NodeSpecBuilder()
              .withTaints(
                  new TaintBuilder()
                      .withKey("dedicated")
                      .withValue("x")
                      .withEffect("NoSchedule")
                      .build())
              .build());
    }
    return n;
  }

  private static List<PodTemplate> templates() {
    PodTemplate empty = new PodTemplate();
    PodTemplate teamA = new PodTemplate();
    teamA.nodeSelector = Map.of("team", "a");
    PodTemplate tolerant = new PodTemplate();
    tolerant.tolerations =
        List.of(new TolerationBuilder().withKey("dedicated").withOperator("Exists").build());
    List<PodTemplate> out = new ArrayList<>();
    out.add(null);
    out.add(empty);
    out.add(teamA);
    out.add(tolerant);
    return out;
  }

  private static GpuProvider provider(String name, double score, String... products) {
    GpuProvider p = new GpuProvider();
    p.setMetadata(new ObjectMetaBuilder().withName(name).build());
    GpuProviderSpec spec = new GpuProviderSpec();
    spec.prices = new ArrayList<>();
    for (String product : products) {
      GpuPrice price = new GpuPrice();
      price.gpuProduct = product;
      price.pricePerGpuHour = Integer.toString(1 + Math.abs((name + product).hashCode()) % 3);
      spec.prices.add(price);
    }
    p.setSpec(spec);
    GpuProviderStatus status = new GpuProviderStatus();
    status.reliability = new Reliability();
    status.reliability.score = score;
    p.setStatus(status);
    return p;
  }

  private static double score(GpuProvider p) {
    return p.getStatus().reliability.score;
  }

  private Optional<BigDecimal> price(String provider, String product) {
    GpuProvider p = providers.get(provider);
    if (p == null) {
      return Optional.empty();
    }
    return p.getSpec().prices.stream()
        .filter(x -> x.gpuProduct.equals(product))
        .findFirst()
        .map(x -> new BigDecimal(x.pricePerGpuHour));
  }

  private Map<String, String> stakeExclusions(Collection<GpuNode> nodes) {
    Map<String, String> out = new HashMap<>();
    nodes.stream()
        .filter(n -> stakeShort.contains(n.provider()))
        .forEach(n -> out.put(n.name(), "stake of " + n.provider() + " short"));
    return out;
  }
}
