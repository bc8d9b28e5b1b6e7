package io.gpupool.operator.scope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ScopeClaimsTest {
  private static final String CRD = "trainingjobs.gpupool.io";
  private static final InstallScope ALL = InstallScope.of("gpupool-system/gpupool", List.of());
  private static final InstallScope TEAM_A =
      InstallScope.of("team-a/gpupool", List.of("ml-a", "ml-shared"));
  private static final InstallScope TEAM_B = InstallScope.of("team-b/pool", List.of("ml-b"));

  private static Map<String, String> claims(InstallScope... scopes) {
    Map<String, String> out = new java.util.HashMap<>();
    out.put("kubectl.kubernetes.io/last-applied-configuration", "{}");
    for (InstallScope s : scopes) {
      out.put(s.annotationKey(), s.annotationValue());
    }
    return out;
  }

  @Test
  void theFirstInstallClaimsAndARestartFindsItsOwnClaim() {
    ScopeClaims.Decision first = ScopeClaims.decide(ALL, claims(), CRD);
    assertThat(first.refusal()).isEmpty();
    assertThat(first.claimToWrite()).contains("*");
    assertThat(ALL.annotationKey()).isEqualTo("claims.gpupool.io/gpupool-system.gpupool");
    ScopeClaims.Decision again = ScopeClaims.decide(ALL, claims(ALL), CRD);
    assertThat(again.refusal()).isEmpty();
    assertThat(again.claimToWrite()).isEmpty();
  }

  @Test
  void disjointListsCoexistAndAnUpgradeRewritesItsOwnClaim() {
    assertThat(ScopeClaims.decide(TEAM_B, claims(TEAM_A), CRD).claimToWrite()).contains("ml-b");
    InstallScope widened = InstallScope.of("team-a/gpupool", List.of("ml-a", "ml-c"));
    assertThat(ScopeClaims.decide(widened, claims(TEAM_A, TEAM_B), CRD).claimToWrite())
        .contains("ml-a,ml-c");
  }

  @Test
  void overlappingInstallsAreRefusedWithWhatToDo() {
    String refusal =
        ScopeClaims.decide(
                InstallScope.of("team-c/gpupool", List.of("ml-shared", "ml-c")),
                claims(TEAM_A, TEAM_B),
                CRD)
            .refusal()
            .orElseThrow();
    assertThat(refusal)
        .isEqualTo(
            "gpupool install team-c/gpupool (managing namespaces [ml-c, ml-shared]) cannot start:"
                + " install team-a/gpupool already manages namespaces [ml-shared] (annotation"
                + " claims.gpupool.io/team-a.gpupool=ml-a,ml-shared) on CustomResourceDefinition"
                + " trainingjobs.gpupool.io. Two installs must manage disjoint namespace lists"
                + " (Helm value scope.namespaces) or label selectors that exclude each other"
                + " (scope.namespaceSelector, e.g. gpupool.io/pool=a and gpupool.io/pool=b)."
                + " If that install is gone, remove its claim:"
                + " kubectl annotate crd trainingjobs.gpupool.io"
                + " claims.gpupool.io/team-a.gpupool-");
    assertThat(ScopeClaims.decide(ALL, claims(TEAM_B), CRD).refusal())
        .hasValueSatisfying(r -> assertThat(r).contains("already manages namespaces [ml-b]"));
    assertThat(
            ScopeClaims.decide(InstallScope.of("other/gpupool", List.of()), claims(ALL), CRD)
                .refusal())
        .hasValueSatisfying(r -> assertThat(r).contains("already manages every namespace"));
  }

  @Test
  void claimsRoundTripThroughTheirAnnotation() {
    assertThat(InstallScope.fromAnnotation(TEAM_A.annotationKey(), TEAM_A.annotationValue()))
        .isEqualTo(TEAM_A);
    assertThat(InstallScope.fromAnnotation("other.io/x", "y")).isNull();
    assertThatThrownBy(() -> InstallScope.of("no-slash", List.of()))
        .hasMessageContaining("<namespace>/<release name>");
  }

  private static final InstallScope POOL_A =
      InstallScope.selected("pool-a/gpupool", "gpupool.io/pool=a");

  @Test
  void selectorInstallsCoexistOnlyWhenTheirSelectorsExcludeEachOther() {
    assertThat(POOL_A.annotationValue()).isEqualTo("selector:gpupool.io/pool=a");
    InstallScope poolB = InstallScope.selected("pool-b/gpupool", "gpupool.io/pool=b");
    assertThat(ScopeClaims.decide(poolB, claims(POOL_A), CRD).claimToWrite())
        .contains("selector:gpupool.io/pool=b");
    InstallScope teamX = InstallScope.selected("team-x/gpupool", "team=x");
    assertThat(ScopeClaims.decide(teamX, claims(POOL_A, poolB), CRD).refusal())
        .hasValueSatisfying(
            r ->
                assertThat(r)
                    .startsWith(
                        "gpupool install team-x/gpupool (managing the namespaces matching"
                            + " selector 'team=x') cannot start: install pool-a/gpupool already"
                            + " manages the namespaces matching selector 'gpupool.io/pool=a'")
                    .contains(
                        "claims.gpupool.io/pool-a.gpupool- claims.gpupool.io/pool-b.gpupool-"));
  }

  @Test
  void aSelectorAndAListOrEveryNamespaceAreRefusedEitherWay() {
    // Labels change: a listed namespace may come to match the selector at any time.
    assertThat(ScopeClaims.decide(POOL_A, claims(TEAM_B), CRD).refusal())
        .hasValueSatisfying(r -> assertThat(r).contains("already manages namespaces [ml-b]"));
    assertThat(ScopeClaims.decide(TEAM_B, claims(POOL_A), CRD).refusal())
        .hasValueSatisfying(
            r ->
                assertThat(r)
                    .contains(
                        "already manages the namespaces matching selector 'gpupool.io/pool=a'"));
    assertThat(ScopeClaims.decide(ALL, claims(POOL_A), CRD).refusal()).isPresent();
    assertThat(ScopeClaims.decide(POOL_A, claims(ALL), CRD).refusal())
        .hasValueSatisfying(r -> assertThat(r).contains("already manages every namespace"));
  }

  @Test
  void selectorClaimsRoundTripAndAListWithASelectorIsRefused() {
    assertThat(InstallScope.fromAnnotation(POOL_A.annotationKey(), POOL_A.annotationValue()))
        .isEqualTo(POOL_A);
    assertThatThrownBy(() -> new InstallScope("a/gpupool", List.of("ml-a"), "gpupool.io/pool=a"))
        .hasMessageContaining("either a namespace list or the namespaces a selector matches");
  }
}
