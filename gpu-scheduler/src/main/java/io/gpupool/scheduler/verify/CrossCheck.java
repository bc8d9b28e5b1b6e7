package io.gpupool.scheduler.verify;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The verdict of one canary cross-check: the same prompts went to every ready replica; replicas
 * whose answers agree form a group, and a replica outside the group that a majority of the
 * <em>providers</em> answered alike is caught. Votes count providers, not replicas: a provider
 * running several replicas of the same wrong model cannot outvote the others. Pure.
 *
 * <p>Two providers that disagree cannot say which is wrong ({@link Outcome#INCONCLUSIVE}); it takes
 * a strict majority of at least two providers to catch the third.
 */
public final class CrossCheck {
  private CrossCheck() {}

  /**
   * One replica's answers, one per prompt in order; an empty answer where it did not answer
   * (timeout, error), which is neither agreement nor dissent.
   */
  public record Reply(String replica, String provider, List<Optional<CanaryAnswer>> answers) {
    public Reply {
      answers = List.copyOf(answers);
    }
  }

  /** What the check found. */
  public enum Outcome {
    /** Every answering replica agreed on every prompt. */
    AGREED,
    /** At least one replica disagreed with a majority of providers. */
    CAUGHT,
    /** Answers differed but no majority of providers stood behind one answer. */
    INCONCLUSIVE,
    /** Fewer than two providers answered: nothing to compare. */
    TOO_FEW_PROVIDERS
  }

  /**
   * A replica caught on one prompt.
   *
   * @param reply the dissenting replica
   * @param prompt the prompt's index
   * @param majority a replica of the majority, whose answer is the evidence's other side
   * @param why how the answers differ
   */
  public record Dissent(Reply reply, int prompt, Reply majority, String why) {}

  /**
   * @param dissents the first prompt each caught replica dissented on (one per replica)
   */
  public record Verdict(Outcome outcome, List<Dissent> dissents, String message) {}

  public static Verdict judge(List<Reply> replies, int prompts, CanaryComparison comparison) {
    Set<String> answering = new TreeSet<>();
    for (Reply r : replies) {
      if (r.answers().size() != prompts) {
        throw new IllegalArgumentException(
            r.replica() + " has " + r.answers().size() + " answers for " + prompts + " prompts");
      }
      if (r.answers().stream().anyMatch(Optional::isPresent)) {
        answering.add(r.provider());
      }
    }
    if (answering.size() < 2) {
      return new Verdict(
          Outcome.TOO_FEW_PROVIDERS,
          List.of(),
          answering.size() + " provider(s) answered; a cross-check needs two or more");
    }
    Map<String, Dissent> caught = new LinkedHashMap<>();
    List<String> unresolved = new ArrayList<>();
    for (int p = 0; p < prompts; p++) {
      List<List<Reply>> groups = group(replies, p, comparison);
      if (groups.size() <= 1) {
        continue;
      }
      Optional<List<Reply>> majority = majority(groups);
      if (majority.isEmpty()) {
        unresolved.add("prompt " + p + ": " + describe(groups));
        continue;
      }
      Reply witness = majority.get().get(0);
      for (List<Reply> g : groups) {
        if (g == majority.get()) {
          continue;
        }
        for (Reply r : g) {
          String why =
              comparison
                  .compare(r.answers().get(p).orElseThrow(), witness.answers().get(p).orElseThrow())
                  .why();
          caught.putIfAbsent(r.replica(), new Dissent(r, p, witness, why));
        }
      }
    }
    if (!caught.isEmpty()) {
      List<String> names = new ArrayList<>();
      caught
          .values()
          .forEach(d -> names.add(d.reply().replica() + " (" + d.reply().provider() + ")"));
      return new Verdict(
          Outcome.CAUGHT,
          List.copyOf(caught.values()),
          "disagreed with the majority of providers: " + String.join(", ", names));
    }
    if (!unresolved.isEmpty()) {
      return new Verdict(
          Outcome.INCONCLUSIVE,
          List.of(),
          "answers differ without a majority of providers: " + String.join("; ", unresolved));
    }
    return new Verdict(
        Outcome.AGREED,
        List.of(),
        answering.size() + " providers agreed on " + prompts + " canary prompt(s)");
  }

  /** Answering replicas in groups of agreeing answers, each compared with its group's first. */
  private static List<List<Reply>> group(
      List<Reply> replies, int prompt, CanaryComparison comparison) {
    List<List<Reply>> groups = new ArrayList<>();
    for (Reply r : replies) {
      Optional<CanaryAnswer> answer = r.answers().get(prompt);
      if (answer.isEmpty()) {
        continue;
      }
      List<Reply> home = null;
      for (List<Reply> g : groups) {
        if (comparison.compare(answer.get(), g.get(0).answers().get(prompt).get()).agree()) {
          home = g;
          break;
        }
      }
      if (home == null) {
        home = new ArrayList<>();
        groups.add(home);
      }
      home.add(r);
    }
    return groups;
  }

  /** The group that more than half of the answering providers, and at least two, stand behind. */
  private static Optional<List<Reply>> majority(List<List<Reply>> groups) {
    Set<String> all = new LinkedHashSet<>();
    groups.forEach(g -> g.forEach(r -> all.add(r.provider())));
    for (List<Reply> g : groups) {
      Set<String> behind = new LinkedHashSet<>();
      g.forEach(r -> behind.add(r.provider()));
      if (behind.size() >= 2 && behind.size() * 2 > all.size()) {
        return Optional.of(g);
      }
    }
    return Optional.empty();
  }

  private static String describe(List<List<Reply>> groups) {
    List<String> parts = new ArrayList<>();
    for (List<Reply> g : groups) {
      List<String> names = new ArrayList<>();
      g.forEach(r -> names.add(r.replica() + " (" + r.provider() + ")"));
      parts.add("[" + String.join(", ", names) + "]");
    }
    return String.join(" vs ", parts);
  }
}
