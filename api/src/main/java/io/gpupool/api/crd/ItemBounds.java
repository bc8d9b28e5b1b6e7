package io.gpupool.api.crd;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Bounds for the string items of a list field ({@code items.pattern}, {@code items.maxLength}),
 * which the Fabric8 generator's annotations cannot express; {@link SchemaMarks} writes them.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface ItemBounds {
  /**
   * For object items: the item field bounded ({@code items.properties.<field>}); empty: the item.
   */
  String field() default "";

  /** Regular expression every item must match; empty for none. */
  String pattern() default "";

  /** Longest item. */
  int maxLength();

  /** For object items: whether every item must have {@link #field} ({@code items.required}). */
  boolean required() default false;
}
