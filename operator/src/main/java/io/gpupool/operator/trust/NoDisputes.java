package io.gpupool.operator.trust;

import io.quarkus.arc.DefaultBean;
import jakarta.enterprise.context.ApplicationScoped;

/** Used until a chain-backed {@link DisputeFiler} exists: says plainly that none was filed. */
@DefaultBean
@ApplicationScoped
public class NoDisputes implements DisputeFiler {
  @Override
  public String fileDispute(String provider, String evidence) {
    return "no dispute filed: this install has no dispute port on chain";
  }
}
