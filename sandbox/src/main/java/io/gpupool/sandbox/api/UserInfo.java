package io.gpupool.sandbox.api;

import java.util.ArrayList;
import java.util.List;

/**
 * Who a request is from, as the API server's authenticators describe it: a user name and its
 * groups. Service accounts are users named {@code system:serviceaccount:NS:NAME} in the groups
 * {@code system:serviceaccounts} and {@code system:serviceaccounts:NS}.
 */
public record UserInfo(String name, List<String> groups) {
  public static final String AUTHENTICATED = "system:authenticated";
  public static final String UNAUTHENTICATED = "system:unauthenticated";
  public static final String MASTERS = "system:masters";
  private static final String SA_PREFIX = "system:serviceaccount:";

  /**
   * The sandbox's administrator: what kubectl's admin kubeconfig and every client without
   * credentials act as (a client certificate in {@code system:masters} on a real cluster).
   */
  public static final UserInfo ADMIN =
      new UserInfo("kubernetes-admin", List.of(MASTERS, AUTHENTICATED));

  public UserInfo {
    groups = List.copyOf(groups);
  }

  /** The user a service account's token authenticates as. */
  public static UserInfo serviceAccount(String namespace, String name) {
    return new UserInfo(
        serviceAccountUsername(namespace, name), serviceAccountGroups(namespace, true));
  }

  static String serviceAccountUsername(String namespace, String name) {
    return SA_PREFIX + namespace + ":" + name;
  }

  static List<String> serviceAccountGroups(String namespace, boolean authenticated) {
    List<String> groups = new ArrayList<>();
    groups.add("system:serviceaccounts");
    groups.add("system:serviceaccounts:" + namespace);
    if (authenticated) {
      groups.add(AUTHENTICATED);
    }
    return groups;
  }

  /** {namespace, name} when this user name is a service account's, else null. */
  static String[] serviceAccountOf(String username) {
    if (!username.startsWith(SA_PREFIX)) {
      return null;
    }
    String[] parts = username.substring(SA_PREFIX.length()).split(":", -1);
    return parts.length == 2 && !parts[0].isEmpty() && !parts[1].isEmpty() ? parts : null;
  }
}
