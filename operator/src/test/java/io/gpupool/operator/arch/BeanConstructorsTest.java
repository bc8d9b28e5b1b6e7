package io.gpupool.operator.arch;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaConstructor;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Dependent;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A bean class with several constructors and none marked {@code @Inject} (and no no-argument one)
 * is not a bean to ArC: it is dropped without a word, its observers never run. A second constructor
 * added for tests did that to the start-up scope check and the election watchdog: the operator
 * started without them and only E2E tests noticed. Every scoped class here must have a constructor
 * ArC can use.
 */
class BeanConstructorsTest {
  private static final JavaClasses OPERATOR =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("io.gpupool.operator");

  private static boolean scoped(JavaClass c) {
    return c.isAnnotatedWith(ApplicationScoped.class)
        || c.isAnnotatedWith(Singleton.class)
        || c.isAnnotatedWith(Dependent.class);
  }

  private static boolean usable(JavaClass c) {
    var constructors = c.getConstructors();
    return constructors.size() == 1
        || constructors.stream().anyMatch(k -> k.isAnnotatedWith(Inject.class))
        || constructors.stream().anyMatch(k -> k.getRawParameterTypes().isEmpty());
  }

  @Test
  void everyBeanClassHasAConstructorArcCanUse() {
    List<String> dropped =
        OPERATOR.stream()
            .filter(BeanConstructorsTest::scoped)
            .filter(c -> !usable(c))
            .map(
                c ->
                    c.getName()
                        + " "
                        + c.getConstructors().stream().map(JavaConstructor::getFullName).toList())
            .toList();
    assertThat(dropped)
        .as("bean classes ArC would silently drop (mark one constructor @Inject)")
        .isEmpty();
  }
}
