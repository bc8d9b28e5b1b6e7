package io.gpupool.operator.billing;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.gpupool.api.v1alpha1.BillingAccount;
import io.gpupool.api.v1alpha1.Budget;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Who may charge whom: a job is paid from a BillingAccount its namespace is bound to (listed in the
 * account's {@code spec.namespaces} or matched by its {@code namespaceSelector}), never from an
 * address it merely names. Pure: the accounts and the namespace's labels are handed in.
 *
 * <p>A refusal's message names the namespace and the account the job asked for, never an account's
 * figures (escrow, spend) nor which other namespaces are bound: a job in one team's namespace
 * learns nothing about another team's account.
 */
public final class PayerAuthorization {
  /** Condition reason: the job's namespace may not charge the account (or payer) it names. */
  public static final String NOT_AUTHORIZED = "PayerNotAuthorized";

  /** Condition reason: billing is on, the job names no account and its namespace has no default. */
  public static final String BUDGET_REQUIRED = "BudgetRequired";

  private PayerAuthorization() {}

  /** The outcome for one job. */
  public sealed interface Decision {}

  /** Paid by {@code account} (its {@code payer}). */
  public record Authorized(BillingAccount account) implements Decision {
    public String payer() {
      return account.getSpec().payer;
    }

    public String accountName() {
      return account.getMetadata().getName();
    }
  }

  /** Not to run; {@code reason} is {@link #NOT_AUTHORIZED} or {@link #BUDGET_REQUIRED}. */
  public record Refused(String reason, String message) implements Decision {}

  /** Runs unbilled: no budget, no default account, and budgets are not required. */
  public record Unbilled() implements Decision {}

  /**
   * Decides who pays for a job in {@code namespace} (labelled {@code namespaceLabels}) with {@code
   * budget} (null: none), among {@code accounts}.
   */
  public static Decision decide(
      String namespace,
      Map<String, String> namespaceLabels,
      Budget budget,
      Collection<BillingAccount> accounts,
      boolean requireBudget) {
    List<BillingAccount> bound =
        accounts.stream()
            .filter(a -> bound(a, namespace, namespaceLabels))
            .sorted(Comparator.comparing(a -> a.getMetadata().getName()))
            .toList();
    String account = budget == null ? null : blankToNull(budget.account);
    String payer = budget == null ? null : blankToNull(budget.payer);
    if (account != null) {
      return bound.stream()
          .filter(a -> a.getMetadata().getName().equals(account))
          .filter(a -> payer == null || payer.equalsIgnoreCase(a.getSpec().payer))
          .findFirst()
          .<Decision>map(Authorized::new)
          .orElseGet(
              () ->
                  new Refused(
                      NOT_AUTHORIZED,
                      "namespace "
                          + namespace
                          + " may not charge BillingAccount "
                          + account
                          + (payer == null ? "" : " with payer " + payer)
                          + ": a platform admin must add the namespace to that account's"
                          + " spec.namespaces or namespaceSelector"));
    }
    if (payer != null) {
      return bound.stream()
          .filter(a -> payer.equalsIgnoreCase(a.getSpec().payer))
          .findFirst()
          .<Decision>map(Authorized::new)
          .orElseGet(
              () ->
                  new Refused(
                      NOT_AUTHORIZED,
                      "namespace "
                          + namespace
                          + " is bound to no BillingAccount paying from "
                          + payer
                          + ": name an account bound to the namespace in spec.budget.account"));
    }
    if (bound.size() == 1) {
      return new Authorized(bound.get(0));
    }
    if (bound.size() > 1) {
      return new Refused(
          BUDGET_REQUIRED,
          "namespace "
              + namespace
              + " is bound to "
              + bound.size()
              + " BillingAccounts: name one in spec.budget.account");
    }
    if (!requireBudget) {
      return new Unbilled();
    }
    return new Refused(
        BUDGET_REQUIRED,
        "billing is on and namespace "
            + namespace
            + " is bound to no BillingAccount: a platform admin binds it by adding it to an"
            + " account's spec.namespaces (or labelling it to match spec.namespaceSelector), then"
            + " the job may name that account in spec.budget.account");
  }

  /** May jobs in {@code namespace} charge {@code account}? */
  public static boolean bound(
      BillingAccount account, String namespace, Map<String, String> namespaceLabels) {
    var spec = account.getSpec();
    if (spec == null || spec.payer == null) {
      return false;
    }
    if (spec.namespaces != null && spec.namespaces.contains(namespace)) {
      return true;
    }
    return spec.namespaceSelector != null
        && namespaceLabels != null
        && matches(spec.namespaceSelector, namespaceLabels);
  }

  /**
   * Label selector semantics of the API: every matchLabels pair and every expression must hold. An
   * empty selector matches nothing here (binding every namespace must be spelled out).
   */
  static boolean matches(LabelSelector selector, Map<String, String> labels) {
    boolean empty =
        (selector.getMatchLabels() == null || selector.getMatchLabels().isEmpty())
            && (selector.getMatchExpressions() == null || selector.getMatchExpressions().isEmpty());
    if (empty) {
      return false;
    }
    if (selector.getMatchLabels() != null) {
      for (var e : selector.getMatchLabels().entrySet()) {
        if (e.getValue() == null || !e.getValue().equals(labels.get(e.getKey()))) {
          return false;
        }
      }
    }
    if (selector.getMatchExpressions() != null) {
      for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
        if (!matches(r, labels)) {
          return false;
        }
      }
    }
    return true;
  }

  private static boolean matches(LabelSelectorRequirement r, Map<String, String> labels) {
    if (r.getKey() == null || r.getOperator() == null) {
      return false; // the schema lets both be left out: such an expression binds nothing
    }
    String value = labels.get(r.getKey());
    List<String> values = r.getValues() == null ? List.of() : r.getValues();
    return switch (r.getOperator()) {
      case "In" -> value != null && values.contains(value);
      case "NotIn" -> value == null || !values.contains(value);
      case "Exists" -> labels.containsKey(r.getKey());
      case "DoesNotExist" -> !labels.containsKey(r.getKey());
      default -> false;
    };
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }
}
