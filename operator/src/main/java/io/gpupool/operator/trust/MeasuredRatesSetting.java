package io.gpupool.operator.trust;

import io.gpupool.scheduler.trust.MeasuredRate;
import io.gpupool.scheduler.trust.MeasuredRates;
import java.util.List;
import java.util.Optional;

/**
 * Reads {@code gpupool.trust.challenge.rates} when the operator starts, refusing what it cannot use
 * with a message naming the setting: a malformed entry, a rate not above 0, two for one product, or
 * one measured at another size than the challenges have (the rate depends on the size, so it would
 * time nothing).
 */
final class MeasuredRatesSetting {
  static final String NAME = "gpupool.trust.challenge.rates";

  private MeasuredRatesSetting() {}

  static MeasuredRates read(Optional<List<String>> entries, int size) {
    MeasuredRates rates;
    try {
      rates = MeasuredRates.parse(entries.orElse(List.of()));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(NAME + ": " + e.getMessage(), e);
    }
    for (MeasuredRate r : rates.all()) {
      if (r.size() != size) {
        throw new IllegalArgumentException(
            NAME
                + ": "
                + MeasuredRates.entry(r)
                + " was measured at size "
                + r.size()
                + ", but challenges are of size "
                + size
                + " (gpupool.trust.challenge.size): measure it again with challenge.py --bench "
                + size);
      }
    }
    return rates;
  }
}
