package io.gpupool.billing.cli;

import io.gpupool.billing.TokenUnits;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.web3j.abi.datatypes.Address;
import org.web3j.crypto.WalletUtils;

/** Positional words and {@code --name value} options. */
record Args(List<String> positional, Map<String, String> options) {
  private static final Pattern DURATION = Pattern.compile("(\\d+)([smhd])");

  static Args parse(String[] args) {
    List<String> pos = new ArrayList<>();
    Map<String, String> opts = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].startsWith("--")) {
        if (i + 1 >= args.length) {
          throw new UsageException(args[i] + " needs a value");
        }
        opts.put(args[i].substring(2), args[++i]);
      } else {
        pos.add(args[i]);
      }
    }
    return new Args(pos, opts);
  }

  String positional(int i, String what) {
    if (i >= positional.size()) {
      throw new UsageException("missing " + what);
    }
    return positional.get(i);
  }

  String positionalOrNull(int i) {
    return i < positional.size() ? positional.get(i) : null;
  }

  String option(String name) {
    return options.get(name);
  }

  String required(String name) {
    String v = options.get(name);
    if (v == null) {
      throw new UsageException("--" + name + " is required");
    }
    return v;
  }

  /** Positional {@code index} as an address. */
  Address address(int index) {
    String v = positional(index, "ADDRESS");
    if (!WalletUtils.isValidAddress(v)) {
      throw new UsageException("not an address: " + v);
    }
    return new Address(v);
  }

  /** An amount in tokens, e.g. 1.5, or in wei with a suffix: 42wei. */
  static BigInteger amount(String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    try {
      BigInteger wei =
          t.endsWith("wei") ? new BigInteger(t.substring(0, t.length() - 3)) : TokenUnits.toWei(t);
      if (wei.signum() < 0) {
        throw new UsageException("amount must not be negative: " + text);
      }
      return wei;
    } catch (NumberFormatException | ArithmeticException e) {
      throw new UsageException("not an amount: " + text + " (tokens like 1.5, or 42wei)");
    }
  }

  /** A duration like 90s, 30m, 12h or 7d. */
  static Duration duration(String text) {
    Matcher m = DURATION.matcher(text.strip());
    if (!m.matches()) {
      throw new UsageException("not a duration: " + text + " (like 90s, 30m, 12h, 7d)");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }

  /** A percentage such as 50 or 12.5 as basis points (0..10,000). */
  static long basisPoints(String percent) {
    BigDecimal bps;
    try {
      bps =
          new BigDecimal(
                  percent.endsWith("%") ? percent.substring(0, percent.length() - 1) : percent)
              .movePointRight(2);
    } catch (NumberFormatException e) {
      throw new UsageException("not a percentage: " + percent);
    }
    if (bps.signum() < 0
        || bps.compareTo(BigDecimal.valueOf(10_000)) > 0
        || bps.stripTrailingZeros().scale() > 0) {
      throw new UsageException(
          "a share is a percentage between 0 and 100 with at most two decimals: " + percent);
    }
    return bps.setScale(0).longValueExact();
  }
}
