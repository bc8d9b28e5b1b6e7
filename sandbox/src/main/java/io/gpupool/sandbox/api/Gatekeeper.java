package io.gpupool.sandbox.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The API server's filter chain in front of every request: authentication (a bearer token the
 * sandbox issued to a service account, or no credentials at all, which stand for the sandbox's
 * administrator: a client certificate in {@code system:masters} on a real cluster), impersonation
 * ({@code Impersonate-User}, {@code -Group}, {@code -Uid}, {@code -Extra-*}: {@code kubectl --as},
 * itself authorized with the verb {@code impersonate}) and RBAC authorization. A request either
 * passes, as a user, or is answered 401/403 with the real API server's Status and message.
 */
final class Gatekeeper {
  private final ServiceAccountTokens tokens;
  private final Supplier<RbacAuthorizer> rbac;

  /** A request admitted as {@code user}, or refused with {@code refusal}. */
  record Admission(UserInfo user, Reply refusal) {
    boolean admitted() {
      return refusal == null;
    }
  }

  Gatekeeper(ServiceAccountTokens tokens, Supplier<RbacAuthorizer> rbac) {
    this.tokens = tokens;
    this.rbac = rbac;
  }

  /**
   * Admits or refuses {@code method uri}; {@code headers} maps lower-case header names to their
   * values.
   */
  Admission admit(String method, String uri, Map<String, List<String>> headers) {
    Admission authenticated = authenticate(first(headers, "authorization"));
    if (!authenticated.admitted()) {
      return authenticated;
    }
    Admission acting = impersonate(authenticated.user(), headers);
    if (!acting.admitted()) {
      return acting;
    }
    AuthorizationAttributes request = RequestAttributes.authorization(method, uri);
    RbacAuthorizer.Decision decision = rbac.get().authorize(acting.user(), request);
    if (!decision.allowed()) {
      return new Admission(null, forbidden(request, acting.user(), decision.reason()));
    }
    return acting;
  }

  private Admission authenticate(String authorization) {
    if (authorization == null || authorization.isBlank()) {
      return new Admission(UserInfo.ADMIN, null);
    }
    if (authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      var user = tokens.lookup(authorization.substring(7).trim());
      if (user.isPresent()) {
        return new Admission(user.get(), null);
      }
    }
    return new Admission(null, Reply.status(401, "Unauthorized", "Unauthorized"));
  }

  /** The user the requester acts as: itself, or whom it may impersonate. */
  private Admission impersonate(UserInfo requester, Map<String, List<String>> headers) {
    String user = first(headers, "impersonate-user");
    List<String> groups = headers.getOrDefault("impersonate-group", List.of());
    String uid = first(headers, "impersonate-uid");
    List<String> extraHeaders =
        headers.keySet().stream().filter(h -> h.startsWith("impersonate-extra-")).toList();
    if (user == null) {
      if (!groups.isEmpty() || uid != null || !extraHeaders.isEmpty()) {
        return new Admission(
            null,
            Reply.status(
                400,
                "BadRequest",
                "requested impersonation of groups, uid or extra without impersonating a user"));
      }
      return new Admission(requester, null);
    }
    List<AuthorizationAttributes> needed = new ArrayList<>();
    String[] serviceAccount = UserInfo.serviceAccountOf(user);
    needed.add(
        serviceAccount != null
            ? AuthorizationAttributes.resource(
                "impersonate", "", "serviceaccounts", "", serviceAccount[0], serviceAccount[1])
            : AuthorizationAttributes.resource("impersonate", "", "users", "", "", user));
    for (String group : groups) {
      needed.add(AuthorizationAttributes.resource("impersonate", "", "groups", "", "", group));
    }
    if (uid != null) {
      needed.add(
          AuthorizationAttributes.resource(
              "impersonate", "authentication.k8s.io", "uids", "", "", uid));
    }
    for (String header : extraHeaders) {
      String key = header.substring("impersonate-extra-".length());
      for (String value : headers.get(header)) {
        needed.add(
            AuthorizationAttributes.resource(
                "impersonate", "authentication.k8s.io", "userextras", key, "", value));
      }
    }
    RbacAuthorizer policy = rbac.get();
    for (AuthorizationAttributes attributes : needed) {
      RbacAuthorizer.Decision decision = policy.authorize(requester, attributes);
      if (!decision.allowed()) {
        return new Admission(null, forbidden(attributes, requester, decision.reason()));
      }
    }
    List<String> actingGroups = new ArrayList<>(groups);
    if (groups.isEmpty() && serviceAccount != null) {
      actingGroups.addAll(UserInfo.serviceAccountGroups(serviceAccount[0], false));
    }
    if (!user.equals("system:anonymous") && !actingGroups.contains(UserInfo.AUTHENTICATED)) {
      actingGroups.add(UserInfo.AUTHENTICATED);
    }
    return new Admission(new UserInfo(user, actingGroups), null);
  }

  static Reply forbidden(AuthorizationAttributes request, UserInfo user, String reason) {
    var details = Json.object();
    if (request.resourceRequest()) {
      if (!request.name().isEmpty()) {
        details.put("name", request.name());
      }
      if (!request.apiGroup().isEmpty()) {
        details.put("group", request.apiGroup());
      }
      details.put("kind", request.resource());
    }
    return Reply.status(403, "Forbidden", request.forbiddenMessage(user.name(), reason), details);
  }

  private static String first(Map<String, List<String>> headers, String name) {
    List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
    return values == null || values.isEmpty() ? null : values.get(0);
  }
}
