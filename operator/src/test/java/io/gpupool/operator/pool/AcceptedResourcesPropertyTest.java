package io.gpupool.operator.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.BillingAccount;
import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.api.v1alpha1.GpuPrice;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.billing.PairId;
import io.gpupool.billing.TokenUnits;
import io.gpupool.operator.billing.AccountLimits;
import io.gpupool.operator.billing.PayerAuthorization;
import io.gpupool.operator.billing.PlacementTerms;
import io.gpupool.operator.billing.SpendingPeriod;
import io.gpupool.operator.queue.QueueDefinitions;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Issue #18, the cluster-scoped kinds the operator reconciles besides the jobs ({@link
 * AcceptedSpecsPropertyTest}): every GpuQueue, GpuProvider and BillingAccount the API server
 * accepts (generated from the checked-in CRDs, names at their longest included) goes through what
 * the operator does with it without an exception, and a value it cannot use is refused with a
 * message (a condition), never dropped silently.
 */
class AcceptedResourcesPropertyTest {
  private static final JsonNode QUEUE = crd("gpuqueues");
  private static final JsonNode PROVIDER = crd("gpuproviders");
  private static final JsonNode ACCOUNT = crd("billingaccounts");
  private static final Pattern LABEL_VALUE =
      Pattern.compile("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$");
  private static final Pattern NAME_LIMIT =
      Pattern.compile("self\\.metadata\\.name\\.size\\(\\) <= (\\d+)");
  private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");

  /** The checked-in CRD of {@code plural} (crds/, kept equal to the API classes by a test). */
  private static JsonNode crd(String plural) {
    return ApiServerSchema.crd(plural);
  }

  /**
   * A cluster-scoped resource as the API server stores it: a DNS-1123 subdomain name (often as long
   * as the CRD allows), a spec its schema and rules accept.
   */
  private static Arbitrary<ObjectNode> accepted(JsonNode schema, String kind) {
    int longest = longestName(schema);
    return Arbitraries.randomValue(
            random -> {
              SchemaValues values = new SchemaValues(random);
              ObjectNode o =
                  com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
              o.put("apiVersion", "gpupool.io/v1alpha1").put("kind", kind);
              o.putObject("metadata").put("name", name(values, random, longest)).put("uid", "u1");
              o.set("spec", values.value(schema.at("/properties/spec")));
              return o;
            })
        .filter(o -> ApiServerSchema.refusals(o, schema).isEmpty());
  }

  /** The longest name the CRD's rules allow, else a DNS-1123 subdomain's 253. */
  static int longestName(JsonNode schema) {
    for (JsonNode rule : schema.path("x-kubernetes-validations")) {
      Matcher m = NAME_LIMIT.matcher(rule.path("rule").asText());
      if (m.find()) {
        return Integer.parseInt(m.group(1));
      }
    }
    return 253;
  }

  /** A short name, or one of exactly {@code longest} characters (labels of at most 63). */
  static String name(SchemaValues values, Random random, int longest) {
    if (random.nextBoolean()) {
      return values.sample("^[a-z]([-a-z0-9]{0,12}[a-z0-9])?$");
    }
    StringBuilder b = new StringBuilder();
    while (b.length() < longest) {
      if (b.length() > 0) {
        b.append('.');
      }
      int room = longest - b.length();
      // never leave room for a '.' alone
      int label = room <= 63 ? room : room - 63 == 1 ? 62 : 63;
      b.append(label(values, label));
    }
    return b.toString();
  }

  /** A DNS label of {@code n} characters starting with a letter. */
  static String label(SchemaValues values, int n) {
    return n == 1 ? "a" : "a" + values.sample("^[-a-z0-9]{" + (n - 2) + "}$") + "z";
  }

  @Provide
  Arbitrary<ObjectNode> queues() {
    return accepted(QUEUE, "GpuQueue");
  }

  @Provide
  Arbitrary<ObjectNode> providers() {
    return accepted(PROVIDER, "GpuProvider");
  }

  @Provide
  Arbitrary<ObjectNode> accounts() {
    return accepted(ACCOUNT, "BillingAccount");
  }

  /** The reconciler sets Valid=False, reason InvalidSpec, with the message of a refusal. */
  @Property(tries = 100)
  void acceptedQueuesAreTakenOrRefusedWithAMessage(@ForAll("queues") ObjectNode json) {
    GpuQueue queue = Serialization.unmarshal(json.toString(), GpuQueue.class);
    try {
      assertThat(QueueDefinitions.of(queue)).isNotNull();
    } catch (IllegalArgumentException refused) {
      assertThat(refused.getMessage()).as("refusal of %s", json).isNotBlank();
    }
  }

  /**
   * A provider's name is the label its nodes carry, its prices become wei for billing and a number
   * for placement, and its payout address is paid on chain: each must be usable, or the provider
   * would silently offer nothing, be billed at 0 or never be paid.
   */
  @Property(tries = 100)
  void acceptedProvidersAreUsableForPlacementAndBilling(@ForAll("providers") ObjectNode json) {
    GpuProvider provider = Serialization.unmarshal(json.toString(), GpuProvider.class);
    assertThat(provider.getMetadata().getName())
        .as("a node label value names the provider")
        .hasSizeLessThanOrEqualTo(63)
        .matches(LABEL_VALUE);
    if (provider.getSpec().payoutAddress != null) {
      assertThatCode(() -> PairId.normaliseAddress(provider.getSpec().payoutAddress, "payout"))
          .as("payout address of %s", json)
          .doesNotThrowAnyException();
    }
    List<GpuPrice> prices =
        provider.getSpec().prices == null ? List.of() : provider.getSpec().prices;
    for (GpuPrice p : prices) {
      BigDecimal price = new BigDecimal(p.pricePerGpuHour);
      BigInteger wei = TokenUnits.toWei(price);
      assertThat(Double.isFinite(price.doubleValue())).isTrue();
      assertThat(PlacementTerms.at(Optional.of(wei), "0.5", 1000).priceWeiPerGpuHour())
          .isLessThanOrEqualTo(wei);
      assertThat(PlacementTerms.at(Optional.of(wei), null, 1000).priceWeiPerGpuHour())
          .isEqualTo(wei);
    }
  }

  /**
   * An account's payer is the escrow settled from, its namespaces and selector decide who may
   * charge it, its limits stop jobs: none of them may throw, and its payer must be an address the
   * chain can charge.
   */
  @Property(tries = 100)
  void acceptedAccountsAuthorizeAndLimitWithoutException(@ForAll("accounts") ObjectNode json) {
    BillingAccount account = Serialization.unmarshal(json.toString(), BillingAccount.class);
    assertThatCode(() -> PairId.normaliseAddress(account.getSpec().payer, "payer"))
        .as("payer of %s", json)
        .doesNotThrowAnyException();
    List<String> namespaces =
        account.getSpec().namespaces == null || account.getSpec().namespaces.isEmpty()
            ? List.of("team-a")
            : account.getSpec().namespaces;
    Budget budget = new Budget();
    budget.account = account.getMetadata().getName();
    for (String namespace : namespaces) {
      PayerAuthorization.Decision d =
          PayerAuthorization.decide(namespace, Map.of("team", "a"), budget, List.of(account), true);
      if (d instanceof PayerAuthorization.Refused r) {
        assertThat(r.message()).isNotBlank().doesNotContain(account.getSpec().payer);
      }
      assertThat(PayerAuthorization.decide(namespace, Map.of(), null, List.of(account), true))
          .isNotNull();
    }
    assertThat(SpendingPeriod.length(account.getSpec().limits)).isPositive();
    assertThatCode(
            () -> {
              AccountLimits.atStart(account, budget, BigDecimal.ONE, null, NOW);
              AccountLimits.whileRunning(account, null, NOW);
              AccountLimits.periodCapReached(account, NOW);
            })
        .as("limits of %s", json)
        .doesNotThrowAnyException();
  }
}
