package io.gpupool.billing.chain;

import io.gpupool.billing.chain.ContractView.Answer;
import io.gpupool.billing.chain.ContractView.Out;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.Response;
import org.web3j.protocol.core.methods.request.EthFilter;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthCall;
import org.web3j.protocol.core.methods.response.EthLog;
import org.web3j.protocol.core.methods.response.Log;

/**
 * JSON-RPC requests to the node and the contract's views, with transport failures turned into
 * {@link ChainUnavailableException} stripped of the RPC URL's secrets and contract refusals into
 * decoded {@link ChainRevertException}s.
 */
final class ChainRpc {

  private final ChainConfig config;
  private final Web3j web3j;
  private final RevertDecoder decoder;

  ChainRpc(ChainConfig config, Web3j web3j, RevertDecoder decoder) {
    this.config = config;
    this.web3j = web3j;
    this.decoder = decoder;
  }

  Web3j web3j() {
    return web3j;
  }

  /** The latest block number. */
  long latestBlock() {
    return send(web3j.ethBlockNumber()).getBlockNumber().longValueExact();
  }

  /** Call view {@code function} at the latest block and decode its {@code outputs}. */
  Answer view(String function, List<Type> args, Out... outputs) {
    Function f = ContractView.function(function, args, outputs);
    return ContractView.decode(f, callLatest(FunctionEncoder.encode(f)), config.contractAddress());
  }

  /** The raw answer of an eth_call of {@code data} at the latest block. */
  String callLatest(String data) {
    EthCall r =
        send(
            web3j.ethCall(
                Transaction.createEthCallTransaction(null, config.contractAddress(), data),
                DefaultBlockParameterName.LATEST));
    if (reverted(r)) {
      throw new ChainRevertException(decoder.decode(errorText(r)), null);
    }
    if (r.hasError()) {
      // The node failed to answer (internal error, rate limit, a block it does not have yet), not
      // the contract: as transient as a dropped connection. Read as a revert it made a new
      // leader's version check conclude "not GpuPoolBilling" and leave billing off for good.
      throw new ChainUnavailableException(
          "RPC error "
              + r.getError().getCode()
              + ": "
              + config.redact(String.valueOf(r.getError().getMessage())),
          null);
    }
    return r.getValue();
  }

  /**
   * Whether the call reverted: an Error(string) in the result, or the error nodes give a revert
   * (code 3, or a message saying "revert"; web3j's {@code isReverted} counts every error).
   */
  static boolean reverted(EthCall r) {
    if (!r.hasError()) {
      return r.isReverted();
    }
    String message = r.getError().getMessage();
    return r.getError().getCode() == 3
        || (message != null && message.toLowerCase(Locale.ROOT).contains("revert"));
  }

  static String errorText(Response<?> r) {
    if (r instanceof EthCall call && call.isReverted() && !r.hasError()) {
      return call.getRevertReason() + " " + call.getValue();
    }
    if (!r.hasError()) {
      return "";
    }
    Object data = r.getError().getData();
    return (data == null ? "" : data + " ") + r.getError().getMessage();
  }

  <T extends Response<?>> T send(org.web3j.protocol.core.Request<?, T> request) {
    try {
      return request.send();
    } catch (IOException e) {
      throw unavailable(e, e);
    } catch (org.web3j.protocol.exceptions.ClientConnectionException e) {
      // An HTTP error status: web3j puts the endpoint's whole answer in the message.
      throw unavailable(e, e);
    } catch (RuntimeException e) {
      if (e.getCause() instanceof IOException io) {
        throw unavailable(io, e);
      }
      throw e;
    }
  }

  /**
   * The transport failure without the RPC URL's secrets: web3j puts the endpoint's answer in its
   * message (a 404 page may name the path, and the path the API key), and the cause chain is
   * printed with every logged stack trace, so it is replaced by a redacted copy.
   */
  private ChainUnavailableException unavailable(Throwable failure, Throwable thrown) {
    return new ChainUnavailableException(
        "RPC unavailable: " + config.redact(failure.getMessage()), redactedCopy(thrown));
  }

  private Throwable redactedCopy(Throwable t) {
    if (t == null) {
      return null;
    }
    Throwable copy =
        new RedactedRpcFailure(
            t.getClass().getName() + ": " + config.redact(t.getMessage()),
            redactedCopy(t.getCause() == t ? null : t.getCause()));
    copy.setStackTrace(t.getStackTrace());
    return copy;
  }

  /** A failure of the RPC transport as it was, its message stripped of the URL's secrets. */
  static final class RedactedRpcFailure extends RuntimeException {
    RedactedRpcFailure(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * The contract's logs from {@code fromBlock} to {@code toBlock} that match the topics {@code
   * topics} sets on the filter, asked in chunks of {@code logChunkBlocks} (nodes cap a range).
   */
  List<Log> logs(long fromBlock, long toBlock, Consumer<EthFilter> topics) {
    List<Log> out = new ArrayList<>();
    for (long from = fromBlock; from <= toBlock; from += config.logChunkBlocks()) {
      long to = Math.min(toBlock, from + config.logChunkBlocks() - 1);
      EthFilter filter =
          new EthFilter(
              DefaultBlockParameter.valueOf(BigInteger.valueOf(from)),
              DefaultBlockParameter.valueOf(BigInteger.valueOf(to)),
              config.contractAddress());
      topics.accept(filter);
      EthLog logs = send(web3j().ethGetLogs(filter));
      if (logs.hasError()) {
        throw new ChainException("eth_getLogs failed: " + logs.getError().getMessage(), null);
      }
      for (EthLog.LogResult<?> result : logs.getLogs()) {
        if (result.get() instanceof Log log) {
          out.add(log);
        }
      }
    }
    return out;
  }
}
