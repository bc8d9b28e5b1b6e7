package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** What the account holds and owes, read from the chain and the operator's usage records. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class BillingAccountStatus {
  public List<Condition> conditions = new ArrayList<>();
  public Long observedGeneration;

  /** The payer's escrow on chain, a decimal token amount. */
  public String escrow;

  /** Escrow committed to settlements not yet paid out. */
  public String committed;

  /** Metered cost of the jobs this payer has paid for, settled or not. */
  public String spent;

  /** Jobs charging the account now (not finished). */
  public Integer activeJobs;

  /** Those jobs, as {@code Kind/namespace/name}. */
  public List<String> jobs;

  /** What the account's jobs were metered in the current period, a decimal token amount. */
  public String spentThisPeriod;

  /** When the current spending period began (RFC 3339). */
  public String periodStart;
}
