package io.gpupool.billing.chain;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Bool;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Uint16;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.abi.datatypes.generated.Uint64;

/**
 * A read-only contract call and its answer, typed once: the call names its outputs' Solidity types,
 * and the answer hands each value out by position as the Java type that Solidity type maps to, so
 * the view methods of {@link Web3jBillingChain} and the {@code ./gpupool chain} tool carry no type
 * references or casts of their own.
 */
public final class ContractView {

  private ContractView() {}

  /** The Solidity output types the contract's views return. */
  public enum Out {
    UINT256(Uint256.class),
    UINT64(Uint64.class),
    UINT16(Uint16.class),
    ADDRESS(Address.class),
    BOOL(Bool.class);

    private final Class<? extends Type<?>> type;

    Out(Class<? extends Type<?>> type) {
      this.type = type;
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    TypeReference<Type> reference() {
      return (TypeReference) TypeReference.create((Class) type);
    }
  }

  /** The call of view {@code name} with {@code args}, answering {@code outputs}. */
  public static Function function(String name, List<Type> args, Out... outputs) {
    List<TypeReference<?>> references = new ArrayList<>(outputs.length);
    for (Out o : outputs) {
      references.add(o.reference());
    }
    return new Function(name, args, references);
  }

  /**
   * Decode {@code hex}, the answer of {@code f}.
   *
   * @throws ChainException when the answer does not hold every output (no contract at the address,
   *     or another contract)
   */
  @SuppressWarnings({"rawtypes", "unchecked"})
  public static Answer decode(Function f, String hex, String contract) {
    List<Type> values = FunctionReturnDecoder.decode(hex, (List) f.getOutputParameters());
    if (values.size() != f.getOutputParameters().size()) {
      throw new ChainException(
          f.getName() + " returned no data: is " + contract + " the contract?", null);
    }
    return new Answer(f.getName(), values);
  }

  /** The decoded values of one view call, read by position. */
  public record Answer(String function, List<Type> values) {

    public BigInteger uint(int i) {
      return value(i, BigInteger.class);
    }

    /** A uint64 (seconds, block numbers) as a long. */
    public long uint64(int i) {
      return uint(i).longValueExact();
    }

    /** An address, lower case. */
    public String address(int i) {
      return value(i, String.class).toLowerCase(Locale.ROOT);
    }

    public boolean bool(int i) {
      return value(i, Boolean.class);
    }

    private <T> T value(int i, Class<T> type) {
      Object v = values.get(i).getValue();
      if (!type.isInstance(v)) {
        throw new IllegalStateException(
            function
                + " output "
                + i
                + " is "
                + values.get(i).getTypeAsString()
                + ", not "
                + type.getSimpleName());
      }
      return type.cast(v);
    }
  }
}
