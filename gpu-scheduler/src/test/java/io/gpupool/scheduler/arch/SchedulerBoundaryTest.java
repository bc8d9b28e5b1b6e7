package io.gpupool.scheduler.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * gpu-scheduler is pure Java: placement and planning are tested and benchmarked without a cluster
 * or a chain, so nothing in it may reach Kubernetes, the chain, Quarkus or the other modules.
 */
class SchedulerBoundaryTest {
  private static final JavaClasses SCHEDULER =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("io.gpupool.scheduler");

  @Test
  void importsNoKubernetesChainOrQuarkusType() {
    noClasses()
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "io.fabric8..",
            "io.javaoperatorsdk..",
            "io.quarkus..",
            "jakarta..",
            "org.web3j..",
            "io.gpupool.api..",
            "io.gpupool.billing..",
            "io.gpupool.operator..",
            "io.gpupool.sandbox..")
        .because("gpu-scheduler is pure Java (docs/architecture.md, Boundaries)")
        .check(SCHEDULER);
  }
}
