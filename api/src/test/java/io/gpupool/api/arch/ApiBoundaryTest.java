package io.gpupool.api.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The API classes describe resources; they never reach into the code that acts on them. */
class ApiBoundaryTest {
  private static final JavaClasses API =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("io.gpupool.api");

  @Test
  void importsNoOperatorSchedulerBillingOrSandboxType() {
    noClasses()
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "io.gpupool.operator..",
            "io.gpupool.scheduler..",
            "io.gpupool.billing..",
            "io.gpupool.sandbox..",
            "io.javaoperatorsdk..",
            "io.quarkus..")
        .because("api is the bottom of the module graph (docs/architecture.md, Boundaries)")
        .check(API);
  }
}
