package io.gpupool.api.crd;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a list field as a list map ({@code x-kubernetes-list-type: map}) keyed by the given item
 * fields: the API server refuses two items with the same key, and server-side apply merges by key.
 * The Fabric8 generator has no such annotation; {@link SchemaMarks} writes it into the CRD.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface MapList {
  /** The item fields that together identify an item; each must be required. */
  String[] value();
}
