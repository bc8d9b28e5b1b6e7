package io.gpupool.billing.chain;

import io.gpupool.billing.contract.GpuPoolBilling;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.web3j.abi.EventEncoder;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthCall;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.utils.Numeric;

/**
 * What the contract's logs and receipts say: {@code Settled}/{@code Overdrawn} pair events, {@code
 * ProviderRegistered} events, read in chunks of {@link ChainConfig#logChunkBlocks()}, and a
 * reverted transaction's reason (replayed at its parent block when the node does not give it).
 */
final class ContractEvents {

  private static final String SETTLED_TOPIC = EventEncoder.encode(GpuPoolBilling.SETTLED_EVENT);
  private static final String OVERDRAWN_TOPIC = EventEncoder.encode(GpuPoolBilling.OVERDRAWN_EVENT);
  private static final String PROVIDER_REGISTERED_TOPIC =
      EventEncoder.encode(GpuPoolBilling.PROVIDERREGISTERED_EVENT);

  private final ChainConfig config;
  private final ChainRpc rpc;
  private final RevertDecoder decoder;

  ContractEvents(ChainConfig config, ChainRpc rpc, RevertDecoder decoder) {
    this.config = config;
    this.rpc = rpc;
    this.decoder = decoder;
  }

  Optional<SettlementReceipt> receipt(String txHash) {
    Optional<TransactionReceipt> r =
        rpc.send(rpc.web3j().ethGetTransactionReceipt(txHash)).getTransactionReceipt();
    if (r.isEmpty()) {
      return Optional.empty();
    }
    TransactionReceipt receipt = r.get();
    List<PairEvent> events = new ArrayList<>();
    for (Log log : receipt.getLogs()) {
      if (log.getAddress().equalsIgnoreCase(config.contractAddress())) {
        toPairEvent(log).ifPresent(events::add);
      }
    }
    DecodedError reason = null;
    if (!receipt.isStatusOK()) {
      reason = replayRevert(txHash, receipt);
    }
    return Optional.of(
        new SettlementReceipt(
            txHash,
            receipt.isStatusOK(),
            receipt.getBlockNumber().longValueExact(),
            receipt.getGasUsed(),
            events,
            reason));
  }

  private DecodedError replayRevert(String txHash, TransactionReceipt receipt) {
    if (receipt.getRevertReason() != null) {
      return decoder.decode(receipt.getRevertReason());
    }
    var tx = rpc.send(rpc.web3j().ethGetTransactionByHash(txHash)).getTransaction();
    if (tx.isEmpty()) {
      return new DecodedError("Unknown", "", List.of("transaction not found"));
    }
    Transaction call =
        Transaction.createEthCallTransaction(
            tx.get().getFrom(), tx.get().getTo(), tx.get().getInput());
    BigInteger parent = receipt.getBlockNumber().subtract(BigInteger.ONE).max(BigInteger.ZERO);
    EthCall replay = rpc.send(rpc.web3j().ethCall(call, DefaultBlockParameter.valueOf(parent)));
    return decoder.decode(ChainRpc.errorText(replay));
  }

  List<PairEvent> pairEvents(long fromBlock) {
    List<PairEvent> out = new ArrayList<>();
    for (Log log : logs(fromBlock, rpc.latestBlock(), SETTLED_TOPIC, OVERDRAWN_TOPIC)) {
      toPairEvent(log).ifPresent(out::add);
    }
    return out;
  }

  ProviderRegistrations providerRegistrations(long fromBlock) {
    long latest = rpc.latestBlock();
    List<String> providers = new ArrayList<>();
    for (Log log : logs(fromBlock, latest, PROVIDER_REGISTERED_TOPIC)) {
      if (log.getTopics().size() > 1) {
        // topic 1: the indexed provider address, left-padded to 32 bytes
        String topic = Numeric.cleanHexPrefix(log.getTopics().get(1));
        providers.add("0x" + topic.substring(topic.length() - 40).toLowerCase(Locale.ROOT));
      }
    }
    return new ProviderRegistrations(providers, latest);
  }

  /** The contract's logs with one of {@code topics} from {@code fromBlock} to {@code toBlock}. */
  private List<Log> logs(long fromBlock, long toBlock, String... topics) {
    return rpc.logs(fromBlock, toBlock, filter -> filter.addOptionalTopics(topics));
  }

  private static Optional<PairEvent> toPairEvent(Log log) {
    if (log.getTopics().isEmpty()) {
      return Optional.empty();
    }
    String topic = log.getTopics().get(0);
    long block = log.getBlockNumber() == null ? -1 : log.getBlockNumber().longValueExact();
    if (SETTLED_TOPIC.equals(topic)) {
      GpuPoolBilling.SettledEventResponse e = GpuPoolBilling.getSettledEventFromLog(log);
      return Optional.of(
          new PairEvent(
              PairEvent.Kind.SETTLED,
              Numeric.toHexString(e.jobId),
              e.payer.toLowerCase(Locale.ROOT),
              e.provider.toLowerCase(Locale.ROOT),
              e.paidTotal,
              e.paidTotal,
              block,
              log.getTransactionHash()));
    }
    if (OVERDRAWN_TOPIC.equals(topic)) {
      GpuPoolBilling.OverdrawnEventResponse e = GpuPoolBilling.getOverdrawnEventFromLog(log);
      return Optional.of(
          new PairEvent(
              PairEvent.Kind.OVERDRAWN,
              Numeric.toHexString(e.jobId),
              e.payer.toLowerCase(Locale.ROOT),
              e.provider.toLowerCase(Locale.ROOT),
              e.paidTotal,
              e.owedTotal,
              block,
              log.getTransactionHash()));
    }
    return Optional.empty();
  }
}
