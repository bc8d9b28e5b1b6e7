package io.gpupool.operator.billing;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.api.v1alpha1.BillingAccount;
import io.gpupool.billing.budget.BudgetService;
import io.gpupool.billing.budget.BudgetVerdict;
import io.gpupool.billing.chain.ChainException;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.operator.status.StatusReplace;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * BillingAccount status: each account's escrow and committed amount (from the chain), what its jobs
 * spent in all and in the current period, and which of them run (from the usage records).
 */
final class AccountStatusWriter {
  private static final Logger LOG = Logger.getLogger(AccountStatusWriter.class);

  private final KubernetesClient client;
  private final BillingAccounts accounts;
  private final ConfigMapBillingStore store;
  private final Clock clock;
  private final PeriodSpend periodSpend = new PeriodSpend();

  AccountStatusWriter(
      KubernetesClient client, BillingAccounts accounts, ConfigMapBillingStore store, Clock clock) {
    this.client = client;
    this.accounts = accounts;
    this.store = store;
    this.clock = clock;
  }

  /**
   * Writes each BillingAccount's status (escrow and committed from the chain, spent and running
   * jobs from the usage records) when its figures changed; runs after each metering pass, so on the
   * leader only. {@code b} reads the escrow (null while billing is off: the last figures are kept).
   */
  void refresh(BudgetService b) {
    List<AccountFigures.JobUsage> jobs = new ArrayList<>();
    Map<String, List<PairLedger>> pairs = new HashMap<>();
    for (String uid : store.jobUids()) {
      boolean running = store.pods(uid).values().stream().anyMatch(r -> !r.ended());
      pairs.put(uid, store.pairs(uid));
      jobs.add(new AccountFigures.JobUsage(store.job(uid).orElse(null), pairs.get(uid), running));
    }
    Map<String, BigInteger> grown = periodSpend.advance(pairs);
    Instant now = clock.instant();
    for (BillingAccount account : accounts.all()) {
      String payer = account.getSpec() == null ? null : account.getSpec().payer;
      if (payer == null) {
        continue;
      }
      BudgetVerdict verdict = null;
      if (b != null) {
        try {
          verdict = b.isDry(payer);
        } catch (ChainException e) {
          LOG.debugf(
              "BillingAccount(%s): escrow unreadable: %s",
              account.getMetadata().getName(), e.getMessage());
        }
      }
      var status = AccountFigures.of(payer, jobs, verdict);
      periodSpend.record(
          account.getMetadata().getUid(),
          account.getStatus(),
          SpendingPeriod.length(account.getSpec().limits),
          grown.getOrDefault(payer.toLowerCase(Locale.ROOT), BigInteger.ZERO),
          now,
          status);
      if (verdict == null && account.getStatus() != null) {
        // keep the last escrow figures read rather than blank them while the chain is away
        status.escrow = account.getStatus().escrow;
        status.committed = account.getStatus().committed;
      }
      if (AccountFigures.same(account.getStatus(), status)) {
        continue;
      }
      status.observedGeneration = account.getMetadata().getGeneration();
      try {
        StatusReplace.write(client, BillingAccount.class, account, status);
      } catch (KubernetesClientException e) {
        LOG.warnf(
            "BillingAccount(%s): status not written: %s",
            account.getMetadata().getName(), e.getMessage());
      }
    }
  }
}
