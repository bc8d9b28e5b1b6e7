package io.gpupool.operator.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The operator's packages in layers, each using only those below it (docs/architecture.md,
 * "Operator packages"), and no way into the sandbox. Read bottom up: configuration; the pool's read
 * model, status and event writing, the write port; metering and metrics; the shared job loop and
 * the provider controller; the two job kinds; the planners that adapt gpu-scheduler to them.
 */
class OperatorLayersTest {
  private static final JavaClasses OPERATOR =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("io.gpupool.operator");

  private static final String P = "io.gpupool.operator.";

  @Test
  void packagesImportOnlyDownward() {
    layeredArchitecture()
        .consideringOnlyDependenciesInAnyPackage("io.gpupool.operator..")
        .layer("planners")
        .definedBy(P + "pool..")
        .layer("kinds")
        .definedBy(P + "training..", P + "inference..")
        .layer("loop")
        .definedBy(
            P + "job..", P + "provider..", P + "queue..", P + "trust..", P + "verification..")
        .layer("metering")
        .definedBy(P + "billing..", P + "metrics..")
        .layer("cluster")
        .definedBy(P + "inventory..", P + "status..", P + "leader..", P + "scope..")
        .layer("base")
        .definedBy(
            P + "config..",
            P + "validation..",
            P + "workload..",
            P + "watch..",
            P + "allocation..",
            P + "podtemplate..")
        .whereLayer("planners")
        .mayNotBeAccessedByAnyLayer()
        .whereLayer("kinds")
        .mayOnlyBeAccessedByLayers("planners")
        .whereLayer("loop")
        .mayOnlyBeAccessedByLayers("planners", "kinds")
        .whereLayer("metering")
        .mayOnlyBeAccessedByLayers("planners", "kinds", "loop")
        .whereLayer("cluster")
        .mayOnlyBeAccessedByLayers("planners", "kinds", "loop", "metering")
        .whereLayer("base")
        .mayOnlyBeAccessedByLayers("planners", "kinds", "loop", "metering", "cluster")
        // a new package must be given its layer here, or it would go unchecked
        .ensureAllClassesAreContainedInArchitecture()
        .check(OPERATOR);
  }

  @Test
  void neverReachesIntoTheSandbox() {
    noClasses()
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("io.gpupool.sandbox..")
        .because("the operator runs against any cluster; the sandbox is one of them")
        .check(OPERATOR);
  }
}
