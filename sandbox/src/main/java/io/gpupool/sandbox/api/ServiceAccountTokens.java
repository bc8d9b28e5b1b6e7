package io.gpupool.sandbox.api;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Bearer tokens the sandbox issues for service accounts (what the TokenRequest API and projected
 * service-account tokens give pods on a real cluster): opaque, random, and known only to this
 * server, which maps each back to {@code system:serviceaccount:NS:NAME}.
 */
public final class ServiceAccountTokens {
  private final SecureRandom random = new SecureRandom();
  private final Map<String, UserInfo> tokens = new ConcurrentHashMap<>();

  /** A new token that authenticates as the service account {@code namespace/name}. */
  public String issue(String namespace, String name) {
    if (namespace == null || namespace.isBlank() || name == null || name.isBlank()) {
      throw new IllegalArgumentException("a service account needs a namespace and a name");
    }
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    String token = "sandbox-sa." + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    tokens.put(token, UserInfo.serviceAccount(namespace, name));
    return token;
  }

  /** The user a token authenticates as, empty when this server never issued it. */
  public Optional<UserInfo> lookup(String token) {
    return token == null ? Optional.empty() : Optional.ofNullable(tokens.get(token));
  }
}
