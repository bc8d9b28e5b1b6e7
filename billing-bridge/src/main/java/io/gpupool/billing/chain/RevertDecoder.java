package io.gpupool.billing.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Type;
import org.web3j.crypto.Hash;
import org.web3j.utils.Numeric;

/**
 * Maps revert data to error names. Custom errors reach the client as a bare selector ({@code custom
 * error 0x38990a9e}) or as ABI-encoded data from an {@code eth_call} dry run; this decoder knows
 * every error of the contract ABI plus Solidity's {@code Error(string)} and {@code Panic(uint256)}.
 */
public final class RevertDecoder {

  private static final Pattern HEX = Pattern.compile("0x([0-9a-fA-F]{8,})");
  private static final String ERROR_STRING = "0x08c379a0";
  private static final String PANIC = "0x4e487b71";

  private record ErrorDef(String name, List<String> types) {}

  private final Map<String, ErrorDef> bySelector = new HashMap<>();

  /** A decoder for the errors declared in {@code abiJson} (a contract ABI array). */
  public RevertDecoder(String abiJson) {
    try {
      for (JsonNode entry : new ObjectMapper().readTree(abiJson)) {
        if (!"error".equals(entry.path("type").asText())) {
          continue;
        }
        List<String> types = new ArrayList<>();
        entry.path("inputs").forEach(in -> types.add(in.path("type").asText()));
        String signature = entry.path("name").asText() + "(" + String.join(",", types) + ")";
        bySelector.put(selector(signature), new ErrorDef(entry.path("name").asText(), types));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("unreadable ABI", e);
    }
    bySelector.put(ERROR_STRING, new ErrorDef("Error", List.of("string")));
    bySelector.put(PANIC, new ErrorDef("Panic", List.of("uint256")));
  }

  /** A decoder for the GpuPoolBilling contract's ABI shipped in this module. */
  public static RevertDecoder forGpuPoolBilling() {
    try (InputStream in =
        RevertDecoder.class.getResourceAsStream("/contracts/GpuPoolBilling.abi")) {
      if (in == null) {
        throw new IllegalStateException("contracts/GpuPoolBilling.abi missing from the classpath");
      }
      return new RevertDecoder(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** 0x-prefixed 4-byte selector of an error or function signature such as {@code Foo(uint256)}. */
  public static String selector(String signature) {
    return Hash.sha3String(signature).substring(0, 10);
  }

  /** Names of all known errors by selector. */
  public Map<String, String> knownErrors() {
    Map<String, String> names = new HashMap<>();
    bySelector.forEach((sel, def) -> names.put(sel, def.name()));
    return names;
  }

  /**
   * Decode revert data or a node/web3j message containing it. Finds the first 0x hex run of at
   * least 4 bytes; if its selector is known, decodes the arguments that follow (when present).
   */
  public DecodedError decode(String dataOrMessage) {
    if (dataOrMessage == null) {
      return new DecodedError("Unknown", "", List.of());
    }
    Matcher m = HEX.matcher(dataOrMessage);
    while (m.find()) {
      String hex = m.group(1).toLowerCase(Locale.ROOT);
      String sel = "0x" + hex.substring(0, 8);
      ErrorDef def = bySelector.get(sel);
      if (def != null) {
        return new DecodedError(def.name(), sel, decodeArgs(def, hex.substring(8)));
      }
    }
    return new DecodedError("Unknown", "", List.of(dataOrMessage));
  }

  private static List<String> decodeArgs(ErrorDef def, String argsHex) {
    if (def.types().isEmpty() || argsHex.length() < 64 * def.types().size()) {
      return List.of();
    }
    try {
      List<TypeReference<Type>> refs = new ArrayList<>();
      for (String t : def.types()) {
        refs.add(TypeReference.makeTypeReference(t));
      }
      List<Type> values = FunctionReturnDecoder.decode("0x" + argsHex, refs);
      List<String> out = new ArrayList<>();
      for (Type v : values) {
        Object value = v.getValue();
        out.add(
            value instanceof byte[] bytes
                ? Numeric.toHexString(bytes)
                : value instanceof BigInteger bi ? bi.toString() : String.valueOf(value));
      }
      return out;
    } catch (ClassNotFoundException | RuntimeException e) {
      return List.of("0x" + argsHex);
    }
  }
}
