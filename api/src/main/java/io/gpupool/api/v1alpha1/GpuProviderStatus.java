package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Observed state of a provider's contribution. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class GpuProviderStatus {
  public List<Condition> conditions = new ArrayList<>();
  public Long observedGeneration;

  /** Nodes labelled with this provider. */
  public Integer nodes;

  public Integer readyNodes;
  public Integer totalGpus;

  /** GPUs per GFD product name. */
  public Map<String, Integer> gpusByModel;

  public Reliability reliability;
  public Earnings earnings;

  /** Hardware challenges of its nodes: counts and the last one's time. */
  public ChallengeRecord challenges;

  /** Stake on chain (absent while billing is off or before the first read). */
  public ProviderStake stake;
}
