package io.gpupool.scheduler.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The pool at one instant: its nodes and who holds what. Immutable; {@link #with} returns a new
 * snapshot and refuses any allocation that would exceed a GPU (1000 milli), a node's CPU or memory,
 * or give a fraction of an unshared GPU.
 *
 * <p>Allocations are kept by node, so a snapshot that differs from another on a few nodes ({@link
 * #withAllocationsOn}) costs those nodes and one pass over the node array, not every allocation in
 * the pool: the operator keeps one snapshot with every holding and moves it on by what changed.
 */
public final class PoolSnapshot {
  private final List<PoolNode> nodes;
  private final Map<String, Integer> index;
  private final NodeState[] states;

  /** The allocations on each node, by the node's index; never null. */
  private final List<Allocation>[] onNode;

  /** Every allocation in node order, laid out when first asked for. */
  private volatile List<Allocation> allocations;

  private final Map<String, String> exclusions;
  private final CachedWeights cachedWeights;
  private final NodeLabels labels;

  private PoolSnapshot(
      List<PoolNode> nodes,
      Map<String, Integer> index,
      NodeState[] states,
      List<Allocation>[] onNode,
      Map<String, String> exclusions,
      CachedWeights cachedWeights,
      NodeLabels labels) {
    this.nodes = nodes;
    this.index = index;
    this.states = states;
    this.onNode = onNode;
    this.exclusions = exclusions;
    this.cachedWeights = cachedWeights;
    this.labels = labels;
  }

  /** A snapshot of {@code nodes} with the given allocations applied (throws on over-allocation). */
  public static PoolSnapshot of(Collection<PoolNode> nodes, Collection<Allocation> allocations) {
    List<PoolNode> list = List.copyOf(nodes);
    Map<String, Integer> index = new HashMap<>();
    NodeState[] states = new NodeState[list.size()];
    List<Allocation>[] onNode = emptyLists(list.size());
    for (int i = 0; i < list.size(); i++) {
      if (index.put(list.get(i).name(), i) != null) {
        throw new IllegalArgumentException("duplicate node " + list.get(i).name());
      }
      states[i] = NodeState.empty(list.get(i));
    }
    return new PoolSnapshot(
            list,
            Collections.unmodifiableMap(index),
            states,
            onNode,
            Map.of(),
            CachedWeights.NONE,
            NodeLabels.NONE)
        .with(allocations);
  }

  /** A snapshot with nothing allocated. */
  public static PoolSnapshot of(Collection<PoolNode> nodes) {
    return of(nodes, List.of());
  }

  /**
   * This snapshot plus more allocations; throws {@link IllegalStateException} on over-allocation.
   */
  public PoolSnapshot with(Collection<Allocation> more) {
    if (more.isEmpty()) {
      return this;
    }
    NodeState[] s = states.clone();
    List<Allocation>[] lists = onNode.clone();
    Map<Integer, List<Allocation>> added = new HashMap<>();
    for (Allocation a : more) {
      Integer i = index.get(a.node());
      if (i == null) {
        throw new IllegalStateException(a + ": unknown node");
      }
      s[i] = s[i].after(a);
      added.computeIfAbsent(i, k -> new ArrayList<>(onNode[k])).add(a);
    }
    added.forEach((i, list) -> lists[i] = Collections.unmodifiableList(list));
    return new PoolSnapshot(nodes, index, s, lists, exclusions, cachedWeights, labels);
  }

  /**
   * This snapshot with the allocations on the given nodes (node name to its allocations, each on
   * that node) in place of those it has there; throws as {@link #with} does on over-allocation.
   */
  public PoolSnapshot withAllocationsOn(Map<String, List<Allocation>> byNode) {
    if (byNode.isEmpty()) {
      return this;
    }
    NodeState[] s = states.clone();
    List<Allocation>[] lists = onNode.clone();
    byNode.forEach(
        (node, there) -> {
          Integer i = index.get(node);
          if (i == null) {
            throw new IllegalStateException(node + ": unknown node");
          }
          NodeState state = NodeState.empty(nodes.get(i));
          for (Allocation a : there) {
            if (!a.node().equals(node)) {
              throw new IllegalArgumentException(a + ": not on " + node);
            }
            state = state.after(a);
          }
          s[i] = state;
          lists[i] = List.copyOf(there);
        });
    return new PoolSnapshot(nodes, index, s, lists, exclusions, cachedWeights, labels);
  }

  /** This snapshot with what each node holds in its local weights cache. */
  public PoolSnapshot withCachedWeights(CachedWeights weights) {
    return new PoolSnapshot(nodes, index, states, onNode, exclusions, weights, labels);
  }

  /** This snapshot with each node's labels (read for a request's preferred node terms). */
  public PoolSnapshot withNodeLabels(NodeLabels nodeLabels) {
    return new PoolSnapshot(nodes, index, states, onNode, exclusions, cachedWeights, nodeLabels);
  }

  /** Each node's labels ({@link NodeLabels#NONE} unless given). */
  public NodeLabels nodeLabels() {
    return labels;
  }

  /** Model weights on each node's local cache ({@link CachedWeights#NONE} unless given). */
  public CachedWeights cachedWeights() {
    return cachedWeights;
  }

  /** This snapshot without the allocations of the given jobs. */
  public PoolSnapshot without(Set<String> jobIds) {
    List<Allocation> keep =
        allocations().stream().filter(a -> !jobIds.contains(a.jobId())).toList();
    return of(nodes, keep)
        .excluding(exclusions)
        .withCachedWeights(cachedWeights)
        .withNodeLabels(labels);
  }

  /**
   * This snapshot without some nodes (and whatever was allocated on them). The other nodes keep
   * their states and allocations as they are: one pass over the nodes, not over every allocation.
   */
  public PoolSnapshot withoutNodes(Set<String> names) {
    List<PoolNode> keepNodes = new ArrayList<>();
    Map<String, Integer> keepIndex = new HashMap<>();
    List<NodeState> keepStates = new ArrayList<>();
    List<List<Allocation>> keepLists = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      PoolNode n = nodes.get(i);
      if (!names.contains(n.name())) {
        keepIndex.put(n.name(), keepNodes.size());
        keepNodes.add(n);
        keepStates.add(states[i]);
        keepLists.add(onNode[i]);
      }
    }
    List<Allocation>[] lists = emptyLists(keepNodes.size());
    for (int i = 0; i < lists.length; i++) {
      lists[i] = keepLists.get(i);
    }
    return new PoolSnapshot(
        List.copyOf(keepNodes),
        Collections.unmodifiableMap(keepIndex),
        keepStates.toArray(new NodeState[0]),
        lists,
        exclusions,
        cachedWeights,
        labels);
  }

  /**
   * This snapshot with nodes the operator leaves out of placement for a reason of its own (a
   * provider whose stake does not cover its GPUs, a quarantined node), node name to reason. The
   * planners never use them and count them per reason in an unplaceable job's explanation. Replaces
   * earlier exclusions.
   */
  public PoolSnapshot excluding(Map<String, String> reasonsByNode) {
    Map<String, String> copy = Map.copyOf(reasonsByNode);
    return new PoolSnapshot(nodes, index, states, onNode, copy, cachedWeights, labels);
  }

  /** Why the {@code i}-th node is left out of placement, or null when it is not. */
  public String exclusion(int i) {
    return exclusions.isEmpty() ? null : exclusions.get(nodes.get(i).name());
  }

  /** Every exclusion, node name to reason. */
  public Map<String, String> exclusions() {
    return exclusions;
  }

  public List<PoolNode> nodes() {
    return nodes;
  }

  /** Every allocation, node by node (in the order of {@link #nodes}). */
  public List<Allocation> allocations() {
    List<Allocation> all = allocations;
    if (all == null) {
      List<Allocation> out = new ArrayList<>();
      for (List<Allocation> there : onNode) {
        out.addAll(there);
      }
      all = Collections.unmodifiableList(out);
      allocations = all;
    }
    return all;
  }

  /** The allocations on node {@code name} (empty for a node not in the snapshot). */
  public List<Allocation> allocationsOn(String name) {
    Integer i = index.get(name);
    return i == null ? List.of() : onNode[i];
  }

  public int size() {
    return nodes.size();
  }

  /** Free state of the {@code i}-th node. */
  public NodeState state(int i) {
    return states[i];
  }

  /** Free state of a node by name, or null. */
  public NodeState state(String node) {
    Integer i = index.get(node);
    return i == null ? null : states[i];
  }

  public PoolNode node(String name) {
    Integer i = index.get(name);
    return i == null ? null : nodes.get(i);
  }

  @SuppressWarnings("unchecked")
  private static List<Allocation>[] emptyLists(int n) {
    List<Allocation>[] lists = new List[n];
    Arrays.fill(lists, List.of());
    return lists;
  }
}
