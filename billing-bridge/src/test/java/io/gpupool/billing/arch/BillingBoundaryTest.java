package io.gpupool.billing.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * billing-bridge owns everything chain and nothing Kubernetes: the operator adapts pods to its
 * metering types, never the other way round.
 */
class BillingBoundaryTest {
  private static final JavaClasses BILLING =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("io.gpupool.billing");

  @Test
  void importsNoKubernetesOperatorOrQuarkusType() {
    noClasses()
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "io.fabric8.kubernetes..",
            "io.javaoperatorsdk..",
            "io.quarkus..",
            "io.gpupool.api..",
            "io.gpupool.operator..",
            "io.gpupool.sandbox..",
            "io.gpupool.scheduler..")
        .because("billing-bridge is the chain side only (docs/architecture.md, Boundaries)")
        .check(BILLING);
  }
}
