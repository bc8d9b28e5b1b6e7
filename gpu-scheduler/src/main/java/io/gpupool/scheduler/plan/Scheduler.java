package io.gpupool.scheduler.plan;

import io.gpupool.scheduler.frag.Fragmentation;
import io.gpupool.scheduler.frag.ModelBits;
import io.gpupool.scheduler.frag.TaskClass;
import io.gpupool.scheduler.frag.WorkloadMix;
import io.gpupool.scheduler.model.Allocation;
import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.model.JobKind;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.LinkModel;
import io.gpupool.scheduler.model.ModelSpec;
import io.gpupool.scheduler.model.NodeState;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.model.Strategy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Places gangs of workers on a {@link PoolSnapshot} and plans how the job is split across them.
 *
 * <p>Not thread-safe: the operator calls it from one reconcile thread (it learns the workload mix
 * online from the requests it sees).
 */
public final class Scheduler {
  private static final int MAX_REJECTED = 8;
  private static final int MAX_PIPELINE_GROUPS = 3;

  private final SchedulerConfig config;
  private final ModelBits bits = new ModelBits();
  private final WorkloadMix mix = new WorkloadMix(0.95, 64, true);

  public Scheduler(SchedulerConfig config) {
    this.config = config;
  }

  public Scheduler() {
    this(SchedulerConfig.defaults());
  }

  public SchedulerConfig config() {
    return config;
  }

  /** The workload mix learned so far from the requests planned. */
  public WorkloadMix mix() {
    return mix;
  }

  // ---------------------------------------------------------------- candidates

  /** Per-node facts that do not change between snapshots of the same node list. */
  record NodeMeta(String productKey, GpuSpec spec, int region, int zone) {}

  private List<PoolNode> metaFor;
  private NodeMeta[] meta;
  private String[] groupNames;
  private Map<String, Integer> groupIds;
  private double meanEffectivePrice = 1;

  /** Node facts, recomputed only when the snapshot's node list changes. */
  private NodeMeta[] meta(PoolSnapshot snap) {
    if (metaFor != snap.nodes()) {
      Map<String, Integer> ids = new HashMap<>();
      List<String> names = new ArrayList<>();
      names.add("pool");
      ids.put("pool", 0);
      NodeMeta[] m = new NodeMeta[snap.size()];
      for (int i = 0; i < m.length; i++) {
        PoolNode n = snap.nodes().get(i);
        String rk = "region " + n.region();
        String zk = "zone " + n.region() + "/" + n.zone();
        int rid =
            ids.computeIfAbsent(
                rk,
                k -> {
                  names.add(k);
                  return names.size() - 1;
                });
        int zid =
            ids.computeIfAbsent(
                zk,
                k -> {
                  names.add(k);
                  return names.size() - 1;
                });
        m[i] =
            new NodeMeta(
                GpuCatalog.normalize(n.gpuProduct()).toLowerCase(Locale.ROOT),
                config.catalog().lookup(n.gpuProduct(), n.gpuMemoryMib(), null),
                rid,
                zid);
      }
      double sum = 0;
      int cnt = 0;
      for (int i = 0; i < m.length; i++) {
        PoolNode n = snap.nodes().get(i);
        if (n.gpuCount() > 0) {
          sum += effectivePrice(n, m[i].spec());
          cnt++;
        }
      }
      meanEffectivePrice = cnt == 0 || sum == 0 ? 1 : sum / cnt;
      double[] gpusByModel = new double[64];
      double allGpus = 0;
      for (PoolNode n : snap.nodes()) {
        gpusByModel[Long.numberOfTrailingZeros(modelBit(n))] += n.gpuCount();
        allGpus += n.gpuCount();
      }
      double pool = allGpus;
      mix.constrainedScale(
          mask -> {
            double accepted = 0;
            for (int b = 0; b < 64; b++) {
              if ((mask & (1L << b)) != 0) {
                accepted += gpusByModel[b];
              }
            }
            return accepted == 0 ? 1 : Math.sqrt(pool / accepted);
          });
      meta = m;
      groupIds = ids;
      groupNames = names.toArray(new String[0]);
      metaFor = snap.nodes();
    }
    return meta;
  }

  /** Forgets cached node facts (call after changing the catalog). */
  public void invalidateCatalog() {
    metaFor = null;
  }

  /** One worker slot: k GPUs (or a fraction of one) on one node. */
  record Worker(PoolNode node, GpuSpec spec, int[] gpus, int milli, double rate, double memBytes) {}

  /** An eligible node with its ranking key. */
  static final class Candidate {
    final int index;
    final NodeState state;
    final GpuSpec spec;
    final int capacity;
    double key;

    Candidate(int index, NodeState state, GpuSpec spec, int capacity, double key) {
      this.index = index;
      this.state = state;
      this.spec = spec;
      this.capacity = capacity;
      this.key = key;
    }
  }

  /** Filter counts for an actionable reason. */
  static final class Census {
    int nodes;
    int notReady;
    int product;
    int memory;
    int region;
    int price;
    int reliability;
    int cpuOrMemory;
    long freeWorkers;
    long eligibleGpusTotal;
  }

  private Set<String> normalizedProducts(JobRequest r) {
    Set<String> s = new HashSet<>();
    for (String p : r.allowedProducts()) {
      s.add(GpuCatalog.normalize(p).toLowerCase(Locale.ROOT));
    }
    return s;
  }

  private long modelBit(PoolNode n) {
    return bits.bit(GpuCatalog.normalize(n.gpuProduct()).toLowerCase(Locale.ROOT));
  }

  private TaskClass taskClass(JobRequest r) {
    long mask = 0;
    for (String p : normalizedProducts(r)) {
      mask |= bits.bit(p);
    }
    return new TaskClass(r.cpuMillisPerWorker(), r.gpuMilli(), r.gpusPerWorker(), mask);
  }

  /** Workers of the request that fit on this node state, placed one after another. */
  private static int capacity(NodeState st, JobRequest r) {
    int k = r.gpusPerWorker();
    int m = r.gpuMilli();
    long cpu = r.cpuMillisPerWorker();
    long mem = r.memoryMibPerWorker();
    long byCpu = cpu == 0 ? Long.MAX_VALUE : st.cpuFree() / cpu;
    long byMem = mem == 0 ? Long.MAX_VALUE : st.memoryFree() / mem;
    long byGpu;
    if (m == 1000) {
      byGpu = st.wholeFree() / k;
    } else {
      if (!st.node().shared()) {
        return 0;
      }
      byGpu = 0;
      for (int g = 0; g < st.node().gpuCount(); g++) {
        byGpu += st.freeMilli(g) / m;
      }
    }
    return (int) Math.min(Math.min(byCpu, byMem), Math.min(byGpu, 64));
  }

  /**
   * One pass over the pool: eligible nodes and their keys (lower is better), keeping the best
   * {@code keep} per locality group.
   */
  private List<Candidate> candidates(
      JobRequest r, PoolSnapshot snap, Census census, Set<String> excludeNodes) {
    List<Candidate> out = new ArrayList<>();
    candidates(
        r,
        snap,
        census,
        excludeNodes,
        (i, st, spec, cap, key) -> out.add(new Candidate(i, st, spec, cap, key)));
    return out;
  }

  /**
   * One pass over the pool: eligible nodes with their keys (lower is better) handed to {@code
   * sink}; keys are normalised by the pool-wide mean price per effective TFLOP/s.
   */
  private void candidates(
      JobRequest r,
      PoolSnapshot snap,
      Census census,
      Set<String> excludeNodes,
      CandidateSink sink) {
    Set<String> products = normalizedProducts(r);
    NodeMeta[] meta = meta(snap);
    boolean[] allowedRegion = null;
    if (!r.allowedRegions().isEmpty()) {
      allowedRegion = new boolean[groupNames.length];
      for (String reg : r.allowedRegions()) {
        Integer id = groupIds.get("region " + reg);
        if (id != null) {
          allowedRegion[id] = true;
        }
      }
    }
    double mean = meanEffectivePrice;
    for (int i = 0; i < snap.size(); i++) {
      NodeState st = snap.state(i);
      PoolNode n = st.node();
      census.nodes++;
      if (n.gpuCount() == 0 || (!excludeNodes.isEmpty() && excludeNodes.contains(n.name()))) {
        continue;
      }
      if (!n.ready()) {
        census.notReady++;
        continue;
      }
      if (!products.isEmpty() && !products.contains(meta[i].productKey())) {
        census.product++;
        continue;
      }
      if (n.gpuMemoryMib() < r.minGpuMemoryMib()) {
        census.memory++;
        continue;
      }
      if (allowedRegion != null && !allowedRegion[meta[i].region()]) {
        census.region++;
        continue;
      }
      if (n.pricePerGpuHour() > r.maxPricePerGpuHour()) {
        census.price++;
        continue;
      }
      if (n.reliability() < r.minReliability()) {
        census.reliability++;
        continue;
      }
      census.eligibleGpusTotal += n.gpuCount();
      int cap = capacity(st, r);
      if (cap == 0) {
        if (st.cpuFree() < r.cpuMillisPerWorker() || st.memoryFree() < r.memoryMibPerWorker()) {
          census.cpuOrMemory++;
        }
        continue;
      }
      census.freeWorkers += cap;
      GpuSpec spec = meta[i].spec();
      double key =
          effectivePrice(n, spec) / mean + config.reliabilityWeight() * (1 - n.reliability());
      sink.accept(i, st, spec, cap, key);
    }
  }

  /** Price per effective TFLOP-hour; 1 / TFLOPs when the node is free of charge. */
  private double effectivePrice(PoolNode n, GpuSpec spec) {
    double tflops = spec.denseTflops() * config.mfu();
    return n.pricePerGpuHour() > 0 ? n.pricePerGpuHour() / tflops : 1.0 / tflops;
  }

  /** Fragmentation growth (in GPUs) of putting one worker on this node, against the mix. */
  private double fragmentationGrowth(NodeState st, JobRequest r) {
    WorkloadMix.Weighted[] w = mix.classes();
    if (w.length == 0) {
      return 0;
    }
    int[] gpus = st.pick(r.gpusPerWorker(), r.gpuMilli(), 0, 0);
    if (gpus == null) {
      return 0;
    }
    int[] free = st.freeMilli();
    long bit = modelBit(st.node());
    double before = Fragmentation.of(free, free.length, st.cpuFree(), bit, w);
    for (int g : gpus) {
      free[g] -= r.gpuMilli();
    }
    double after =
        Fragmentation.of(free, free.length, st.cpuFree() - r.cpuMillisPerWorker(), bit, w);
    return (after - before) / 1000.0;
  }

  /** Receives eligible nodes from the pool scan without allocating for the ones it drops. */
  interface CandidateSink {
    void accept(int index, NodeState state, GpuSpec spec, int capacity, double key);
  }

  /** Keeps the best {@code keep} candidates of each locality group (pool, region, zone). */
  final class Grouper implements CandidateSink {
    private final int keep;
    private final Comparator<Candidate> worstFirst = Comparator.comparingDouble(c -> -c.key);
    private final PriorityQueue<Candidate>[] heaps;

    @SuppressWarnings("unchecked")
    Grouper(int keep) {
      this.keep = keep;
      this.heaps = new PriorityQueue[groupNames.length];
    }

    @Override
    public void accept(int index, NodeState state, GpuSpec spec, int capacity, double key) {
      NodeMeta m = meta[index];
      if (worse(0, key) && worse(m.region(), key) && worse(m.zone(), key)) {
        return;
      }
      Candidate c = new Candidate(index, state, spec, capacity, key);
      offer(heaps, 0, c, keep, worstFirst);
      offer(heaps, m.region(), c, keep, worstFirst);
      offer(heaps, m.zone(), c, keep, worstFirst);
    }

    /** True when group {@code g} is full of candidates at least as good as {@code key}. */
    private boolean worse(int g, double key) {
      PriorityQueue<Candidate> h = heaps[g];
      return h != null && h.size() >= keep && key >= h.peek().key;
    }

    Map<String, List<Candidate>> groups() {
      Map<String, List<Candidate>> out = new LinkedHashMap<>();
      for (int g = 0; g < heaps.length; g++) {
        if (heaps[g] != null) {
          List<Candidate> l = new ArrayList<>(heaps[g]);
          l.sort(Comparator.comparingDouble(c -> c.key));
          out.put(groupNames[g], l);
        }
      }
      return out;
    }
  }

  private static void offer(
      PriorityQueue<Candidate>[] heaps, int g, Candidate c, int keep, Comparator<Candidate> cmp) {
    PriorityQueue<Candidate> h = heaps[g];
    if (h == null) {
      h = heaps[g] = new PriorityQueue<>(cmp);
    }
    if (h.size() < keep) {
      h.add(c);
    } else if (c.key < h.peek().key) {
      h.poll();
      h.add(c);
    }
  }

  // ---------------------------------------------------------------- planning

  /** Plans a request on a snapshot: a {@link Plan} or an actionable {@link Unplaceable}. */
  public PlanResult plan(JobRequest r, PoolSnapshot snap) {
    mix.observe(taskClass(r));
    if (r.kind() == JobKind.INFERENCE && !fitsOneWorker(r, snap)) {
      return planReplicaGroup(r, snap);
    }
    return planInternal(r, snap, Set.of(), List.of());
  }

  /** Bytes one inference replica needs: weights plus activations of one sample in flight. */
  private static double replicaBytes(ModelSpec m) {
    return m.stateBytes(JobKind.INFERENCE)
        + m.layerActivationBytesPerSample(JobKind.INFERENCE) * m.layers();
  }

  /** Whether some eligible node could hold a whole replica in one worker of the request. */
  private boolean fitsOneWorker(JobRequest r, PoolSnapshot snap) {
    double need = replicaBytes(r.model());
    for (PoolNode n : snap.nodes()) {
      double have =
          r.gpusPerWorker()
              * n.gpuMemoryMib()
              * 1024.0
              * 1024
              * config.memoryHeadroom()
              * r.gpuMilli()
              / 1000.0;
      if (n.gpuCount() >= r.gpusPerWorker() && have >= need) {
        return true;
      }
    }
    return false;
  }

  /**
   * Plans {@code r.workers()} inference replicas of a model too large for one GPU: each replica is
   * a group of shards, tensor-parallel over whole GPUs of one node when a node can hold it,
   * otherwise pipelined across nodes (each node one stage, tensor-parallel over its free GPUs,
   * layers split by the exact min-max program). Replicas are spread across providers and regions;
   * all replicas are placed or none.
   */
  public PlanResult planReplicaGroup(JobRequest r, PoolSnapshot snap) {
    ModelSpec m = r.model();
    double need = replicaBytes(m);
    JobRequest whole =
        new JobRequest(
            r.id(),
            r.kind(),
            r.strategy(),
            1,
            1,
            1,
            1000,
            r.allowedProducts(),
            r.minGpuMemoryMib(),
            r.cpuMillisPerWorker(),
            r.memoryMibPerWorker(),
            r.allowedRegions(),
            r.maxPricePerGpuHour(),
            r.minReliability(),
            m);
    PoolSnapshot work = snap;
    List<RankPlacement> ranks = new ArrayList<>();
    Map<String, Integer> spread = new HashMap<>();
    double throughput = 0;
    double price = 0;
    double step = 0;
    List<String> why = new ArrayList<>();
    for (int rep = 0; rep < r.workers(); rep++) {
      Census census = new Census();
      List<Candidate> cands = candidates(whole, work, census, Set.of());
      // Option A: tensor parallel inside one node.
      Candidate bestNode = null;
      int bestGpus = 0;
      double bestKey = Double.POSITIVE_INFINITY;
      for (Candidate c : cands) {
        PoolNode n = c.state.node();
        double perGpu = n.gpuMemoryMib() * 1024.0 * 1024 * config.memoryHeadroom();
        int g = (int) Math.ceil(need / perGpu);
        if (g <= c.state.wholeFree()
            && c.state.cpuFree() >= r.cpuMillisPerWorker()
            && c.state.memoryFree() >= r.memoryMibPerWorker()) {
          double key = c.key * g + config.spreadWeight() * spreadOf(spread, n);
          if (key < bestKey) {
            bestKey = key;
            bestNode = c;
            bestGpus = g;
          }
        }
      }
      List<Worker> stages = new ArrayList<>();
      if (bestNode != null) {
        PoolNode n = bestNode.state.node();
        int[] gpus = bestNode.state.pick(bestGpus, 1000, 0, 0);
        stages.add(worker(n, bestNode.spec, gpus, 1000));
      } else {
        // Option B: pipeline across nodes, cheapest (and least crowded) first.
        List<Candidate> order = new ArrayList<>(cands);
        order.sort(
            Comparator.comparingDouble(
                c -> c.key + config.spreadWeight() * spreadOf(spread, c.state.node())));
        double have = 0;
        for (Candidate c : order) {
          if (have >= need * 1.05 || stages.size() >= m.layers()) {
            break;
          }
          int free = Math.min(8, c.state.wholeFree());
          if (free == 0
              || c.state.cpuFree() < r.cpuMillisPerWorker()
              || c.state.memoryFree() < r.memoryMibPerWorker()) {
            continue;
          }
          Worker w = worker(c.state.node(), c.spec, c.state.pick(free, 1000, 0, 0), 1000);
          stages.add(w);
          have += w.memBytes();
        }
        if (have < need) {
          return new Unplaceable(
              r.id(),
              String.format(
                  Locale.ROOT,
                  "replica %d of %d needs %.1f GiB of GPU memory; the eligible free GPUs hold"
                      + " %.1f GiB",
                  rep + 1,
                  r.workers(),
                  need / GIB,
                  have / GIB),
              List.of(census.freeWorkers + " free GPUs on eligible nodes"));
        }
        stages.sort(
            Comparator.comparing((Worker w) -> w.node().region())
                .thenComparing(w -> w.node().zone()));
      }
      int s = stages.size();
      double[] flops = new double[m.layers()];
      double[] st = new double[m.layers()];
      double[] act = new double[m.layers()];
      java.util.Arrays.fill(flops, m.layerFlopsPerSample(JobKind.INFERENCE));
      java.util.Arrays.fill(st, m.layerStateBytes(JobKind.INFERENCE));
      java.util.Arrays.fill(act, m.layerActivationBytesPerSample(JobKind.INFERENCE));
      double[] rate = new double[s];
      double[] mem = new double[s];
      double[] inFlight = new double[s];
      double[] transfer = new double[s];
      for (int i = 0; i < s; i++) {
        rate[i] = stages.get(i).rate();
        mem[i] = stages.get(i).memBytes();
        inFlight[i] = 1;
        if (i + 1 < s) {
          transfer[i] =
              config
                  .links()
                  .between(stages.get(i).node(), stages.get(i + 1).node())
                  .transferSeconds(m.boundaryActivationBytesPerSample());
        }
      }
      PipelineSplitter.Split split =
          PipelineSplitter.split(flops, st, act, rate, mem, inFlight, transfer);
      if (split == null) {
        return new Unplaceable(
            r.id(), "replica " + (rep + 1) + ": no layer split fits the chosen GPUs", List.of());
      }
      List<Allocation> allocs = new ArrayList<>();
      for (int i = 0; i < s; i++) {
        Worker w = stages.get(i);
        ranks.add(rank(ranks.size(), rep, w, i, split.first()[i], split.last()[i], 1.0));
        allocs.add(
            new Allocation(
                r.id(),
                w.node().name(),
                w.gpus(),
                1000,
                r.cpuMillisPerWorker(),
                r.memoryMibPerWorker()));
        spread.merge("p" + w.node().provider(), 1, Integer::sum);
        spread.merge("r" + w.node().region(), 1, Integer::sum);
      }
      work = work.with(allocs);
      double latency = s * split.bottleneckSeconds();
      step = Math.max(step, latency);
      throughput += 1 / split.bottleneckSeconds();
      price += price(stages);
      why.add(
          String.format(
              Locale.ROOT,
              "replica %d: %s over %d stage(s) on %s",
              rep,
              s == 1
                  ? "tensor parallel over " + stages.get(0).gpus().length + " GPU(s)"
                  : "pipeline",
              s,
              stages.stream().map(w -> w.node().name()).toList()));
    }
    List<String> all = new ArrayList<>();
    all.add(
        String.format(
            Locale.ROOT,
            "Sharded inference: each replica needs %.1f GiB, more than one worker of %d GPU(s) holds;"
                + " est. %.3g samples/s, %.2f/h.",
            need / GIB,
            r.gpusPerWorker(),
            throughput,
            price));
    all.addAll(why);
    Map<String, Double> score = new LinkedHashMap<>();
    score.put("pricePerHour", price);
    return new Plan(
        r.id(),
        Strategy.PIPELINE_PARALLEL,
        ranks,
        step,
        throughput,
        price,
        score,
        all,
        List.of("single-worker replicas: model does not fit " + r.gpusPerWorker() + " GPU(s)"),
        r);
  }

  private static int spreadOf(Map<String, Integer> spread, PoolNode n) {
    return spread.getOrDefault("p" + n.provider(), 0) + spread.getOrDefault("r" + n.region(), 0);
  }

  private PlanResult planInternal(
      JobRequest r, PoolSnapshot snap, Set<String> exclude, List<Worker> fixed) {
    Census census = new Census();
    int needed = r.workers() - fixed.size();
    meta(snap);
    Grouper grouper = new Grouper(Math.max(4, 4 * Math.max(1, needed)));
    candidates(r, snap, census, exclude, grouper);
    int minNeeded = Math.max(0, r.minWorkers() - fixed.size());
    if (census.freeWorkers < Math.max(1, minNeeded) && needed > 0) {
      return unplaceable(r, census);
    }
    int target = (int) Math.min(needed, census.freeWorkers);
    // Refine the cheapest few per group with the fragmentation term (the expensive part).
    Map<String, List<Candidate>> groups = grouper.groups();
    Set<Candidate> refined = new HashSet<>();
    for (List<Candidate> l : groups.values()) {
      for (Candidate c : l) {
        if (refined.add(c)) {
          c.key += config.fragmentationWeight() * fragmentationGrowth(c.state, r);
        }
      }
      l.sort(Comparator.comparingDouble(c -> c.key));
    }
    List<String> rejected = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    boolean training = r.kind() == JobKind.TRAINING;
    boolean allowDp = r.strategy() != Strategy.PIPELINE_PARALLEL || !training;
    boolean allowPp = r.strategy() != Strategy.DATA_PARALLEL && training;
    List<Evaluated> options = new ArrayList<>();
    List<List<Worker>> ppSets = new ArrayList<>();
    List<String> ppGroups = new ArrayList<>();
    for (Map.Entry<String, List<Candidate>> g : groups.entrySet()) {
      long room = 0;
      for (Candidate c : g.getValue()) {
        room += c.capacity;
      }
      if (room + fixed.size() < r.minWorkers()) {
        continue;
      }
      List<Worker> workers = new ArrayList<>(fixed);
      workers.addAll(take(r, g.getValue(), target));
      if (workers.size() < r.minWorkers() || !seen.add(signature(workers))) {
        continue;
      }
      if (allowDp || workers.size() == 1) {
        options.add(dataParallel(r, workers, g.getKey()));
      }
      if (allowPp && workers.size() > 1) {
        ppSets.add(workers);
        ppGroups.add(g.getKey());
      }
    }
    // Pipeline search (the costly part) only where its bound can still beat the best so far,
    // most promising groups first, at most MAX_PIPELINE_GROUPS of them.
    double bar = 0;
    for (Evaluated e : options) {
      if (e.plan != null) {
        bar = Math.max(bar, e.value);
      }
    }
    Integer[] order = new Integer[ppSets.size()];
    double[] bound = new double[ppSets.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
      bound[i] = pipelineBoundValue(r, ppSets.get(i));
    }
    java.util.Arrays.sort(order, (a, b) -> Double.compare(bound[b], bound[a]));
    int searched = 0;
    for (int i : order) {
      if (searched == MAX_PIPELINE_GROUPS || (bar > 0 && bound[i] <= bar)) {
        note(rejected, "PIPELINE_PARALLEL on " + ppGroups.get(i) + ": bound below the best plan");
        continue;
      }
      Evaluated e = pipeline(r, ppSets.get(i), ppGroups.get(i));
      searched++;
      options.add(e);
      if (e.plan != null) {
        bar = Math.max(bar, e.value);
      }
    }
    Evaluated best = null;
    for (Evaluated e : options) {
      if (e.plan != null && (best == null || e.value > best.value)) {
        best = e;
      }
    }
    for (Evaluated e : options) {
      if (e == best) {
        continue;
      }
      note(
          rejected,
          e.plan == null
              ? e.strategy + " on " + e.group + ": " + e.reason
              : e.describe() + " (lower throughput per cost)");
    }
    if (best == null) {
      String why = rejected.isEmpty() ? "no group of nodes can host it" : rejected.get(0);
      return new Unplaceable(
          r.id(), "no feasible split for " + describe(r) + ": " + why, List.copyOf(rejected));
    }
    return best.finish(rejected, census, target < needed);
  }

  private static String signature(List<Worker> ws) {
    StringBuilder b = new StringBuilder();
    for (Worker w : ws) {
      b.append(w.node().name()).append(java.util.Arrays.toString(w.gpus())).append(';');
    }
    return b.toString();
  }

  private static void note(List<String> rejected, String s) {
    if (rejected.size() < MAX_REJECTED) {
      rejected.add(s);
    }
  }

  /** Picks workers from candidates in key order, several per node when it has room. */
  private List<Worker> take(JobRequest r, List<Candidate> cands, int n) {
    List<Worker> out = new ArrayList<>();
    Map<String, NodeState> used = new HashMap<>();
    Map<String, Integer> spread = new HashMap<>();
    List<Candidate> pool = new ArrayList<>(cands);
    while (out.size() < n && !pool.isEmpty()) {
      Candidate c = pool.get(0);
      if (r.kind() == JobKind.INFERENCE && config.spreadWeight() > 0) {
        // Spread replicas across providers and regions.
        double bestKey = Double.POSITIVE_INFINITY;
        for (Candidate x : pool) {
          PoolNode nx = x.state.node();
          double k =
              x.key
                  + config.spreadWeight()
                      * (spread.getOrDefault("p" + nx.provider(), 0)
                          + spread.getOrDefault("r" + nx.region(), 0));
          if (k < bestKey) {
            bestKey = k;
            c = x;
          }
        }
      }
      PoolNode node = c.state.node();
      NodeState st = used.getOrDefault(node.name(), c.state);
      int[] gpus = st.pick(r.gpusPerWorker(), r.gpuMilli(), r.cpuMillisPerWorker(), 0);
      if (gpus == null || (r.memoryMibPerWorker() > st.memoryFree())) {
        pool.remove(c);
        continue;
      }
      Allocation a =
          new Allocation(
              r.id(),
              node.name(),
              gpus,
              r.gpuMilli(),
              r.cpuMillisPerWorker(),
              r.memoryMibPerWorker());
      used.put(node.name(), st.after(a));
      out.add(worker(node, c.spec, gpus, r.gpuMilli()));
      spread.merge("p" + node.provider(), 1, Integer::sum);
      spread.merge("r" + node.region(), 1, Integer::sum);
    }
    return out;
  }

  private Worker worker(PoolNode node, GpuSpec spec, int[] gpus, int milli) {
    double tp = gpus.length > 1 ? config.tensorParallelEfficiency() : 1.0;
    double rate = gpus.length * spec.denseTflops() * 1e12 * config.mfu() * tp * milli / 1000.0;
    double mem =
        gpus.length
            * node.gpuMemoryMib()
            * 1024.0
            * 1024.0
            * config.memoryHeadroom()
            * milli
            / 1000.0;
    return new Worker(node, spec, gpus, milli, rate, mem);
  }

  // ---------------------------------------------------------------- evaluation

  /** A candidate plan with its objective value, or the reason it is infeasible. */
  final class Evaluated {
    final JobRequest request;
    final String group;
    Strategy strategy;
    List<Worker> workers;
    PipelineSplitter.Split split;
    double step;
    double throughput;
    double price;
    double value;
    String reason;
    Plan plan;
    final List<String> alternatives = new ArrayList<>();

    Evaluated(JobRequest request, String group) {
      this.request = request;
      this.group = group;
    }

    String describe() {
      return String.format(
          Locale.ROOT, "%s on %s: %.3g samples/s for %.2f/h", strategy, group, throughput, price);
    }

    Plan finish(List<String> rejected, Census census, boolean shrunk) {
      List<String> why = new ArrayList<>();
      why.add(
          String.format(
              Locale.ROOT,
              "%s over %d worker(s) in %s: est. %.3g samples/s, step %.3g s, %.2f/h.",
              strategy,
              workers.size(),
              group,
              throughput,
              step,
              price));
      why.add(
          "Objective: goodput (throughput × (1 − expected restarts × restart loss)) per unit of"
              + " price per hour; nodes ranked by price per effective TFLOP/s, reliability and"
              + " fragmentation growth against the workload mix learned so far.");
      if (shrunk) {
        why.add(
            "Started elastically with "
                + workers.size()
                + " of "
                + request.workers()
                + " workers (minWorkers "
                + request.minWorkers()
                + ").");
      }
      List<String> rej = new ArrayList<>(alternatives);
      for (String s : rejected) {
        if (rej.size() < MAX_REJECTED) {
          rej.add(s);
        }
      }
      return new Plan(
          request.id(),
          strategy,
          plan.ranks(),
          step,
          throughput,
          price,
          plan.score(),
          why,
          rej,
          request);
    }
  }

  private Evaluated evaluate(JobRequest r, List<Worker> workers, String group) {
    return evaluate(r, workers, group, 0);
  }

  /**
   * Evaluates the strategies the request allows on these workers. The pipeline search is skipped
   * when even its lower bound (max(total FLOPs / Σ rates, one layer / fastest rate) per stage)
   * cannot beat {@code toBeat} or the data-parallel plan of the same workers.
   */
  private Evaluated evaluate(JobRequest r, List<Worker> workers, String group, double toBeat) {
    List<Evaluated> options = new ArrayList<>();
    boolean training = r.kind() == JobKind.TRAINING;
    if (r.strategy() != Strategy.PIPELINE_PARALLEL || workers.size() == 1 || !training) {
      options.add(dataParallel(r, workers, group));
    }
    if (r.strategy() != Strategy.DATA_PARALLEL && workers.size() > 1 && training) {
      double bar = toBeat;
      for (Evaluated e : options) {
        if (e.plan != null) {
          bar = Math.max(bar, e.value);
        }
      }
      if (bar > 0 && pipelineBoundValue(r, workers) <= bar) {
        Evaluated skipped = new Evaluated(r, group);
        skipped.strategy = Strategy.PIPELINE_PARALLEL;
        skipped.reason = "pipeline bound cannot beat the best plan found";
        options.add(skipped);
      } else {
        options.add(pipeline(r, workers, group));
      }
    }
    Evaluated best = null;
    for (Evaluated e : options) {
      if (e.plan != null && (best == null || e.value > best.value)) {
        best = e;
      }
    }
    if (best == null) {
      Evaluated e = options.get(0);
      if (options.size() > 1) {
        e.reason = options.get(0).reason + "; " + options.get(1).reason;
      }
      return e;
    }
    for (Evaluated e : options) {
      if (e != best) {
        best.alternatives.add(
            e.plan == null ? e.strategy + " on " + group + ": " + e.reason : e.describe());
      }
    }
    return best;
  }

  private double price(List<Worker> ws) {
    double p = 0;
    for (Worker w : ws) {
      p += w.node().pricePerGpuHour() * w.gpus().length * w.milli() / 1000.0;
    }
    return p;
  }

  /**
   * Goodput per unit of price; goodput itself when everything is free. A training gang stalls when
   * any of its nodes fails, so expected restarts add up over its nodes; inference replicas fail
   * alone, so each replica's share is discounted by its own node, and spreading replicas over more
   * providers earns a small bonus.
   */
  private double value(double throughput, List<Worker> ws, double price, JobKind kind) {
    double goodput;
    if (kind == JobKind.TRAINING) {
      Set<String> nodes = new HashSet<>();
      double restarts = 0;
      for (Worker w : ws) {
        if (nodes.add(w.node().name())) {
          restarts += 1 - w.node().reliability();
        }
      }
      goodput = throughput * Math.max(0.01, 1 - restarts * config.restartLossHours());
    } else {
      double avail = 0;
      Set<String> providers = new HashSet<>();
      for (Worker w : ws) {
        avail += Math.max(0.01, 1 - (1 - w.node().reliability()) * config.restartLossHours());
        providers.add(w.node().provider());
      }
      goodput =
          throughput
              * avail
              / ws.size()
              * (1 + 0.02 * config.spreadWeight() * (providers.size() - 1));
    }
    return price > 0 ? goodput / price : goodput * 1e6;
  }

  /** The slowest link between any two workers (the ring all-reduce runs at its pace). */
  private LinkModel.Link slowestLink(List<Worker> ws) {
    LinkModel links = config.links();
    LinkModel.Link worst = links.link(io.gpupool.scheduler.model.Locality.SAME_NODE);
    for (int i = 0; i < ws.size(); i++) {
      for (int j = i + 1; j < ws.size(); j++) {
        LinkModel.Link l = links.between(ws.get(i).node(), ws.get(j).node());
        if (l.bandwidthGBs() < worst.bandwidthGBs()) {
          worst = l;
        }
      }
    }
    return worst;
  }

  Evaluated dataParallel(JobRequest r, List<Worker> ws, String group) {
    Evaluated e = new Evaluated(r, group);
    e.strategy = Strategy.DATA_PARALLEL;
    e.workers = ws;
    ModelSpec m = r.model();
    boolean training = r.kind() == JobKind.TRAINING;
    double totalRate = 0;
    for (Worker w : ws) {
      double need = m.stateBytes(r.kind()) + m.layerActivationBytesPerSample(r.kind()) * m.layers();
      if (need > w.memBytes()) {
        e.reason =
            String.format(
                Locale.ROOT,
                "data parallel needs %.1f GiB per worker (whole model%s), %s has %.1f GiB",
                need / GIB,
                training ? " with Adam state" : "",
                w.node().name(),
                w.memBytes() / GIB);
        return e;
      }
      totalRate += w.rate();
    }
    double compute = m.stepFlops(r.kind()) / totalRate;
    int n = ws.size();
    double comm = 0;
    if (training && n > 1) {
      LinkModel.Link l = slowestLink(ws);
      comm =
          2.0 * (n - 1) / n * m.gradientBytes() / (l.bandwidthGBs() * 1e9)
              + 2.0 * (n - 1) * l.latencySeconds();
    }
    e.step = compute + comm;
    e.throughput = m.batch() / e.step;
    e.price = price(ws);
    e.value = value(e.throughput, ws, e.price, r.kind());
    List<RankPlacement> ranks = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Worker w = ws.get(i);
      ranks.add(
          rank(
              i, training ? 0 : i, w, 0, 0, m.layers() - 1, training ? w.rate() / totalRate : 1.0));
    }
    Map<String, Double> score = scoreOf(ws, e);
    score.put("computeSeconds", compute);
    score.put("allReduceSeconds", comm);
    e.plan =
        new Plan(
            r.id(),
            e.strategy,
            ranks,
            e.step,
            e.throughput,
            e.price,
            score,
            List.of(),
            List.of(),
            r);
    return e;
  }

  private static final double GIB = 1024.0 * 1024 * 1024;

  /** Upper bound of the objective any pipeline split over these workers can reach. */
  private double pipelineBoundValue(JobRequest r, List<Worker> ws) {
    ModelSpec m = r.model();
    double sum = 0;
    double max = 0;
    for (Worker w : ws) {
      sum += w.rate();
      max = Math.max(max, w.rate());
    }
    double perLayer = m.layerFlopsPerSample(r.kind());
    double stage = Math.max(perLayer * m.layers() / sum, perLayer / max);
    double step = (m.batch() + ws.size() - 1) * stage;
    return value(m.batch() / step, ws, price(ws), r.kind());
  }

  Evaluated pipeline(JobRequest r, List<Worker> ws, String group) {
    Evaluated best = null;
    List<List<Worker>> orders = new ArrayList<>();
    orders.add(ws);
    List<Worker> byRate = new ArrayList<>(ws);
    byRate.sort(Comparator.comparingDouble(w -> -w.rate()));
    orders.add(byRate);
    List<Worker> byPlace = new ArrayList<>(ws);
    byPlace.sort(
        Comparator.comparing((Worker w) -> w.node().region())
            .thenComparing(w -> w.node().zone())
            .thenComparing(w -> w.node().name())
            .thenComparingDouble(w -> -w.rate()));
    orders.add(byPlace);
    List<Worker> byMem = new ArrayList<>(ws);
    byMem.sort(Comparator.comparingDouble(w -> -w.memBytes()));
    orders.add(byMem);
    for (List<Worker> order : orders) {
      Evaluated e = pipelineInOrder(r, order, group);
      if (best == null || (e.plan != null && (best.plan == null || e.value > best.value))) {
        best = e;
      }
    }
    return best;
  }

  Evaluated pipelineInOrder(JobRequest r, List<Worker> ws, String group) {
    Evaluated e = new Evaluated(r, group);
    e.strategy = Strategy.PIPELINE_PARALLEL;
    e.workers = ws;
    ModelSpec m = r.model();
    int s = ws.size();
    int layers = m.layers();
    if (s > layers) {
      e.reason = s + " stages for " + layers + " layers";
      return e;
    }
    boolean training = r.kind() == JobKind.TRAINING;
    double[] flops = new double[layers];
    double[] state = new double[layers];
    double[] act = new double[layers];
    java.util.Arrays.fill(flops, m.layerFlopsPerSample(r.kind()));
    java.util.Arrays.fill(state, m.layerStateBytes(r.kind()));
    java.util.Arrays.fill(act, m.layerActivationBytesPerSample(r.kind()));
    double[] rate = new double[s];
    double[] mem = new double[s];
    double[] inFlight = new double[s];
    double[] transfer = new double[s];
    for (int i = 0; i < s; i++) {
      rate[i] = ws.get(i).rate();
      mem[i] = ws.get(i).memBytes();
      inFlight[i] = training ? s - i : 1;
      if (i + 1 < s) {
        LinkModel.Link l = config.links().between(ws.get(i).node(), ws.get(i + 1).node());
        transfer[i] = l.transferSeconds(m.boundaryActivationBytesPerSample()) * (training ? 2 : 1);
      }
    }
    PipelineSplitter.Split split =
        PipelineSplitter.split(flops, state, act, rate, mem, inFlight, transfer);
    if (split == null) {
      double total = m.stateBytes(r.kind());
      double have = 0;
      for (double x : mem) {
        have += x;
      }
      e.reason =
          String.format(
              Locale.ROOT,
              "pipeline: no split of %d layers fits (model state %.1f GiB, stages hold %.1f GiB)",
              layers,
              total / GIB,
              have / GIB);
      return e;
    }
    e.split = split;
    int microbatches = m.batch();
    e.step = (microbatches + s - 1) * split.bottleneckSeconds();
    e.throughput = m.batch() / e.step;
    e.price = price(ws);
    e.value = value(e.throughput, ws, e.price, r.kind());
    List<RankPlacement> ranks = new ArrayList<>();
    for (int i = 0; i < s; i++) {
      ranks.add(rank(i, 0, ws.get(i), i, split.first()[i], split.last()[i], 1.0));
    }
    Map<String, Double> score = scoreOf(ws, e);
    score.put("bottleneckStageSeconds", split.bottleneckSeconds());
    e.plan =
        new Plan(
            r.id(),
            e.strategy,
            ranks,
            e.step,
            e.throughput,
            e.price,
            score,
            List.of(),
            List.of(),
            r);
    return e;
  }

  private Map<String, Double> scoreOf(List<Worker> ws, Evaluated e) {
    Map<String, Double> score = new LinkedHashMap<>();
    double restarts = 0;
    Set<String> nodes = new HashSet<>();
    for (Worker w : ws) {
      if (nodes.add(w.node().name())) {
        restarts += 1 - w.node().reliability();
      }
    }
    score.put("pricePerHour", e.price);
    score.put("expectedRestartsPerHour", restarts);
    score.put("worstLocality", (double) worstLocality(ws).ordinal());
    score.put("value", e.value);
    return score;
  }

  private io.gpupool.scheduler.model.Locality worstLocality(List<Worker> ws) {
    io.gpupool.scheduler.model.Locality worst = io.gpupool.scheduler.model.Locality.SAME_NODE;
    for (Worker w : ws) {
      io.gpupool.scheduler.model.Locality l =
          io.gpupool.scheduler.model.Locality.between(ws.get(0).node(), w.node());
      if (l.ordinal() > worst.ordinal()) {
        worst = l;
      }
    }
    return worst;
  }

  private static RankPlacement rank(
      int rank, int replica, Worker w, int stage, int first, int last, double share) {
    PoolNode n = w.node();
    return new RankPlacement(
        rank,
        replica,
        n.name(),
        n.provider(),
        n.region(),
        n.zone(),
        n.gpuProduct(),
        w.gpus(),
        w.milli(),
        stage,
        first,
        last,
        share);
  }

  // ---------------------------------------------------------------- unplaceable

  private static String describe(JobRequest r) {
    StringBuilder b = new StringBuilder();
    b.append(r.id()).append(" (");
    if (r.gpuMilli() < 1000) {
      b.append(r.workers()).append(" × ").append(r.gpuMilli()).append(" milli-GPU");
    } else {
      b.append(r.workers()).append(" × ").append(r.gpusPerWorker()).append(" GPU");
    }
    return b.append(")").toString();
  }

  private Unplaceable unplaceable(JobRequest r, Census c) {
    StringBuilder need = new StringBuilder("needs ");
    int gpus = r.workers() * r.gpusPerWorker();
    if (r.gpuMilli() < 1000) {
      need.append(r.workers()).append(" GPU shares of ").append(r.gpuMilli()).append(" milli");
    } else if (r.gpusPerWorker() > 1) {
      need.append(gpus)
          .append(" GPUs (")
          .append(r.workers())
          .append(" × ")
          .append(r.gpusPerWorker())
          .append(" on one node each)");
    } else {
      need.append(gpus).append(" GPUs");
    }
    if (r.minGpuMemoryMib() > 0) {
      need.append(
          String.format(Locale.ROOT, " with ≥ %d GiB", (r.minGpuMemoryMib() + 1023) / 1024));
    }
    if (!r.allowedProducts().isEmpty()) {
      need.append(" of ").append(String.join("/", r.allowedProducts()));
    }
    if (!r.allowedRegions().isEmpty()) {
      need.append(" in ").append(String.join(", ", r.allowedRegions()));
    }
    if (Double.isFinite(r.maxPricePerGpuHour())) {
      need.append(String.format(Locale.ROOT, " under %.2f/h", r.maxPricePerGpuHour()));
    }
    if (r.minReliability() > 0) {
      need.append(String.format(Locale.ROOT, " with reliability ≥ %.2f", r.minReliability()));
    }
    long freeGpus = c.freeWorkers * r.gpusPerWorker();
    String has =
        r.gpuMilli() < 1000
            ? "; the pool has room for " + c.freeWorkers
            : r.gpusPerWorker() > 1
                ? "; the pool has room for "
                    + c.freeWorkers
                    + " such worker(s) ("
                    + freeGpus
                    + " GPUs)"
                : "; the pool has " + freeGpus + " free";
    if (r.minWorkers() < r.workers()) {
      has += " (at least " + r.minWorkers() + " workers would do)";
    }
    List<String> details = new ArrayList<>();
    details.add(c.nodes + " nodes in the pool");
    addIf(details, c.notReady, "not ready");
    addIf(details, c.product, "excluded by GPU product");
    addIf(details, c.memory, "excluded by GPU memory");
    addIf(details, c.region, "excluded by region");
    addIf(details, c.price, "excluded by price");
    addIf(details, c.reliability, "excluded by reliability");
    addIf(details, c.cpuOrMemory, "eligible but short of CPU or memory");
    details.add(
        c.eligibleGpusTotal + " GPUs on eligible nodes, room for " + c.freeWorkers + " worker(s)");
    return new Unplaceable(r.id(), need + has, details);
  }

  private static void addIf(List<String> d, int n, String what) {
    if (n > 0) {
      d.add(n + " nodes " + what);
    }
  }

  // ---------------------------------------------------------------- repair

  /**
   * Re-places only the ranks that were on {@code lostNodes}; when that is impossible and the
   * request's minWorkers allows, shrinks the job to its surviving ranks. {@code snapshot} is the
   * pool as it is now (it may or may not still list the lost nodes and the plan's allocations).
   */
  public PlanResult repair(Plan plan, Set<String> lostNodes, PoolSnapshot snapshot) {
    JobRequest r = plan.request();
    PoolSnapshot snap = snapshot.withoutNodes(lostNodes);
    boolean holds = snap.allocations().stream().anyMatch(a -> a.jobId().equals(r.id()));
    List<RankPlacement> survivors = new ArrayList<>();
    List<RankPlacement> lost = new ArrayList<>();
    for (RankPlacement rp : plan.ranks()) {
      (lostNodes.contains(rp.node()) ? lost : survivors).add(rp);
    }
    if (lost.isEmpty()) {
      return plan;
    }
    if (!holds) {
      List<Allocation> keep = new ArrayList<>();
      for (RankPlacement rp : survivors) {
        keep.add(
            new Allocation(
                r.id(),
                rp.node(),
                rp.gpuIndices(),
                rp.milliPerGpu(),
                r.cpuMillisPerWorker(),
                r.memoryMibPerWorker()));
      }
      snap = snap.with(keep);
    }
    List<Worker> fixed = new ArrayList<>();
    for (RankPlacement rp : survivors) {
      PoolNode n = snap.node(rp.node());
      GpuSpec spec = config.catalog().lookup(n.gpuProduct(), n.gpuMemoryMib(), null);
      fixed.add(worker(n, spec, rp.gpuIndices(), rp.milliPerGpu()));
    }
    String lostDesc = lost.size() + " rank(s) on " + String.join(", ", lostNodes);
    PlanResult replaced = planInternal(r.withWorkers(r.workers()), snap, Set.of(), fixed);
    if (replaced instanceof Plan p && p.ranks().size() == plan.ranks().size()) {
      List<String> why = new ArrayList<>();
      why.add("Repaired: re-placed " + lostDesc + "; " + survivors.size() + " rank(s) kept.");
      why.addAll(p.why());
      return new Plan(
          p.jobId(),
          p.strategy(),
          p.ranks(),
          p.stepSeconds(),
          p.samplesPerSecond(),
          p.pricePerHour(),
          p.score(),
          why,
          p.rejected(),
          plan.request());
    }
    if (survivors.size() >= r.minWorkers()) {
      JobRequest shrunk = r.withWorkers(survivors.size());
      Evaluated e = evaluate(shrunk, fixed, "surviving nodes");
      if (e.plan != null) {
        Plan p = e.finish(List.of(), new Census(), false);
        List<String> why = new ArrayList<>();
        why.add(
            "Shrunk elastically from "
                + r.workers()
                + " to "
                + survivors.size()
                + " workers after losing "
                + lostDesc
                + " (no replacement: "
                + (replaced instanceof Unplaceable u ? u.reason() : "partial")
                + ").");
        why.addAll(p.why());
        return new Plan(
            p.jobId(),
            p.strategy(),
            p.ranks(),
            p.stepSeconds(),
            p.samplesPerSecond(),
            p.pricePerHour(),
            p.score(),
            why,
            p.rejected(),
            r);
      }
    }
    String reason = replaced instanceof Unplaceable u ? u.reason() : "replacement incomplete";
    return new Unplaceable(
        r.id(),
        "lost "
            + lostDesc
            + "; cannot replace them ("
            + reason
            + ") and only "
            + survivors.size()
            + " of minWorkers "
            + r.minWorkers()
            + " survive",
        List.of());
  }
}
