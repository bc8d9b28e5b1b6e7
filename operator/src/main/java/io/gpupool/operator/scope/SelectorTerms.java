package io.gpupool.operator.scope;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A label selector in the API server's string form ({@code team=a,tier in (gpu,cpu),!legacy}),
 * parsed to match namespaces' labels with the API's semantics and to tell whether two
 * selector-scoped installs could ever select the same namespace. Disjointness is proven
 * conservatively: "disjoint" only when some key makes it impossible for one namespace to satisfy
 * both.
 */
final class SelectorTerms {
  private static final String KEY = "([A-Za-z0-9][-A-Za-z0-9_./]*)";
  private static final String VALUE = "([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?";
  private static final Pattern SET =
      Pattern.compile(KEY + "\\s+(in|notin)\\s+\\(([^()]*)\\)", Pattern.CASE_INSENSITIVE);
  private static final Pattern EQUALITY = Pattern.compile(KEY + "\\s*(==|=|!=)\\s*" + VALUE);
  private static final Pattern EXISTS = Pattern.compile("(!)?\\s*" + KEY);

  /** What one key must satisfy: present or absent, and the values allowed (null: any). */
  private record KeyRule(boolean mustExist, boolean mustBeAbsent, Set<String> allowed) {
    KeyRule and(KeyRule other) {
      Set<String> both;
      if (allowed == null) {
        both = other.allowed;
      } else if (other.allowed == null) {
        both = allowed;
      } else {
        both = new TreeSet<>(allowed);
        both.retainAll(other.allowed);
      }
      return new KeyRule(mustExist || other.mustExist, mustBeAbsent || other.mustBeAbsent, both);
    }

    /** No label value can satisfy this rule. */
    boolean impossible() {
      return (mustExist && mustBeAbsent) || (allowed != null && allowed.isEmpty());
    }
  }

  private final String text;
  private final Map<String, KeyRule> rules;
  private final List<Predicate<Map<String, String>>> tests;

  private SelectorTerms(
      String text, Map<String, KeyRule> rules, List<Predicate<Map<String, String>>> tests) {
    this.text = text;
    this.rules = rules;
    this.tests = tests;
  }

  /** Whether {@code labels} satisfy every term (as the API server's selector matching). */
  boolean matches(Map<String, String> labels) {
    Map<String, String> l = labels == null ? Map.of() : labels;
    return tests.stream().allMatch(t -> t.test(l));
  }

  /**
   * Parses {@code selector}; an empty or malformed one is refused (an empty selector would select
   * every namespace, which is what leaving the selector unset means).
   */
  static SelectorTerms parse(String selector) {
    if (selector == null || selector.isBlank()) {
      throw new IllegalArgumentException(
          "the namespace selector is empty: leave it unset to manage every namespace");
    }
    Map<String, KeyRule> rules = new LinkedHashMap<>();
    List<Predicate<Map<String, String>>> tests = new ArrayList<>();
    for (String term : splitTerms(selector)) {
      String t = term.trim();
      KeyRule rule;
      String key;
      Matcher m;
      if ((m = SET.matcher(t)).matches()) {
        key = m.group(1);
        Set<String> values = new TreeSet<>();
        for (String v : m.group(3).split(",")) {
          if (!v.isBlank()) {
            values.add(v.trim());
          }
        }
        boolean in = m.group(2).equalsIgnoreCase("in");
        String k = key;
        tests.add(
            in
                ? l -> l.containsKey(k) && values.contains(l.get(k))
                : l -> !l.containsKey(k) || !values.contains(l.get(k)));
        // notin proves nothing about disjointness: it only matches (it says nothing provable).
        rule = in ? new KeyRule(true, false, values) : new KeyRule(false, false, null);
      } else if ((m = EQUALITY.matcher(t)).matches()) {
        key = m.group(1);
        String value = m.group(3) == null ? "" : m.group(3);
        boolean not = m.group(2).equals("!=");
        String k = key;
        tests.add(not ? l -> !value.equals(l.get(k)) : l -> value.equals(l.get(k)));
        rule = not ? new KeyRule(false, false, null) : new KeyRule(true, false, Set.of(value));
      } else if ((m = EXISTS.matcher(t)).matches()) {
        key = m.group(2);
        boolean absent = m.group(1) != null;
        String k = key;
        tests.add(absent ? l -> !l.containsKey(k) : l -> l.containsKey(k));
        rule = absent ? new KeyRule(false, true, null) : new KeyRule(true, false, null);
      } else {
        throw new IllegalArgumentException(
            "namespace selector '"
                + selector
                + "' is not a label selector: term '"
                + t
                + "' is none of key, !key, key=value, key!=value, key in (v1,v2), key notin (v1)");
      }
      rules.merge(key, rule, KeyRule::and);
    }
    return new SelectorTerms(selector.trim(), rules, List.copyOf(tests));
  }

  /** Splits on commas outside parentheses. */
  private static List<String> splitTerms(String selector) {
    List<String> terms = new ArrayList<>();
    int depth = 0;
    StringBuilder current = new StringBuilder();
    for (char c : selector.toCharArray()) {
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      }
      if (c == ',' && depth == 0) {
        terms.add(current.toString());
        current.setLength(0);
      } else {
        current.append(c);
      }
    }
    terms.add(current.toString());
    return terms;
  }

  /** Whether no namespace's labels can satisfy both selectors. */
  boolean disjointFrom(SelectorTerms other) {
    for (Map.Entry<String, KeyRule> e : rules.entrySet()) {
      KeyRule theirs = other.rules.get(e.getKey());
      if (theirs != null && e.getValue().and(theirs).impossible()) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    return text;
  }
}
