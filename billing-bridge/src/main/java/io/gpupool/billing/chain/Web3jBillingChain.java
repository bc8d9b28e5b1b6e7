package io.gpupool.billing.chain;

import static io.gpupool.billing.chain.ContractView.Out.ADDRESS;
import static io.gpupool.billing.chain.ContractView.Out.BOOL;
import static io.gpupool.billing.chain.ContractView.Out.UINT256;
import static io.gpupool.billing.chain.ContractView.Out.UINT64;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.chain.ContractView.Answer;
import io.gpupool.billing.chain.ContractView.Out;
import io.gpupool.billing.contract.GpuPoolBilling;
import java.io.IOException;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.web3j.abi.EventEncoder;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Bool;
import org.web3j.abi.datatypes.DynamicArray;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Bytes16;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.crypto.RawTransaction;
import org.web3j.crypto.TransactionDecoder;
import org.web3j.crypto.TransactionEncoder;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.Response;
import org.web3j.protocol.core.methods.request.EthFilter;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthCall;
import org.web3j.protocol.core.methods.response.EthEstimateGas;
import org.web3j.protocol.core.methods.response.EthLog;
import org.web3j.protocol.core.methods.response.EthSendTransaction;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.http.HttpService;
import org.web3j.utils.Numeric;

/**
 * {@link BillingChain} over JSON-RPC with web3j. Signs locally with the reporter key (which it
 * never logs), signs and broadcasts in two steps (the settlement loop persists the signed
 * transaction in between, and chooses the nonce with its outbox), dry-runs every batch with {@code
 * eth_call} to get a decodable revert reason before paying gas, and prices gas with a {@link
 * GasPricePolicy}.
 */
public final class Web3jBillingChain
    implements BillingChain, TrustChain, DisputeSigner, AutoCloseable {

  private static final System.Logger LOG = System.getLogger(Web3jBillingChain.class.getName());
  private static final String SETTLED_TOPIC = EventEncoder.encode(GpuPoolBilling.SETTLED_EVENT);
  private static final String OVERDRAWN_TOPIC = EventEncoder.encode(GpuPoolBilling.OVERDRAWN_EVENT);
  private static final String PROVIDER_REGISTERED_TOPIC =
      EventEncoder.encode(GpuPoolBilling.PROVIDERREGISTERED_EVENT);

  /** The contract interface version ({@code GpuPoolBilling.VERSION}) this client speaks. */
  public static final BigInteger EXPECTED_VERSION = BigInteger.valueOf(5);

  private final ChainConfig config;
  private final Web3j web3j;
  private final Credentials reporter;
  private final RevertDecoder decoder;

  public Web3jBillingChain(ChainConfig config, Credentials reporter) {
    this(config, reporter, buildWeb3j(config));
  }

  public Web3jBillingChain(ChainConfig config, Credentials reporter, Web3j web3j) {
    this.config = Objects.requireNonNull(config, "config");
    this.reporter = Objects.requireNonNull(reporter, "reporter");
    this.web3j = Objects.requireNonNull(web3j, "web3j");
    this.decoder = RevertDecoder.forGpuPoolBilling();
  }

  /** A web3j client with the configured timeouts. */
  public static Web3j buildWeb3j(ChainConfig config) {
    long ms = config.rpcTimeout().toMillis();
    OkHttpClient http =
        new OkHttpClient.Builder()
            .connectTimeout(ms, TimeUnit.MILLISECONDS)
            .readTimeout(ms, TimeUnit.MILLISECONDS)
            .writeTimeout(ms, TimeUnit.MILLISECONDS)
            .retryOnConnectionFailure(false)
            .build();
    return Web3j.build(new HttpService(config.rpcUrl(), http));
  }

  public Web3j web3j() {
    return web3j;
  }

  /** The reporter's address (never the key). */
  public String reporterAddress() {
    return reporter.getAddress();
  }

  /**
   * ABI-encode {@code settleBatch} for the items: parties deduplicated and sorted by address (the
   * contract takes them strictly increasing, so no escrow can be listed twice); each entry packs
   * job id (bits 128..255), payer index (112..127), provider index (96..111) and cumulative wei
   * (0..95).
   */
  public static String encodeSettleBatch(List<SettlementItem> items) {
    java.util.SortedMap<BigInteger, String> sorted = new java.util.TreeMap<>();
    for (SettlementItem item : items) {
      sorted.put(Numeric.toBigInt(item.pair().payer()), item.pair().payer());
      sorted.put(Numeric.toBigInt(item.pair().provider()), item.pair().provider());
    }
    if (sorted.size() > 0xFFFF) {
      throw new IllegalArgumentException("a batch may name at most 65,535 addresses");
    }
    Map<BigInteger, Integer> index = new LinkedHashMap<>();
    for (BigInteger address : sorted.keySet()) {
      index.put(address, index.size());
    }
    List<Uint256> entries = new ArrayList<>(items.size());
    for (SettlementItem item : items) {
      if (item.cumulativeWei().bitLength() > 96) {
        throw new IllegalArgumentException(
            "cumulative amount of " + item.pair() + " does not fit the contract's 96-bit field");
      }
      int payer = index.get(Numeric.toBigInt(item.pair().payer()));
      int provider = index.get(Numeric.toBigInt(item.pair().provider()));
      entries.add(
          new Uint256(
              new BigInteger(1, item.pair().jobIdHash())
                  .shiftLeft(128)
                  .or(BigInteger.valueOf(payer).shiftLeft(112))
                  .or(BigInteger.valueOf(provider).shiftLeft(96))
                  .or(item.cumulativeWei())));
    }
    List<Address> parties = sorted.values().stream().map(Address::new).toList();
    Function f =
        new Function(
            GpuPoolBilling.FUNC_SETTLEBATCH,
            List.of(
                new DynamicArray<>(Address.class, parties),
                new DynamicArray<>(Uint256.class, entries)),
            List.of());
    return FunctionEncoder.encode(f);
  }

  /**
   * Refuse to work against a contract of another interface version: its batch format, events or
   * rules may differ, and settling against it could lose or misdirect money.
   *
   * @throws ContractVersionMismatchException naming both versions and what to do
   */
  public void requireContractVersion() {
    BigInteger deployed;
    try {
      deployed = view(GpuPoolBilling.FUNC_VERSION, List.of(), UINT256).uint(0);
    } catch (ChainUnavailableException e) {
      throw e;
    } catch (ChainException e) {
      throw new ContractVersionMismatchException(
          "the contract at "
              + config.contractAddress()
              + " has no VERSION() (an older GpuPoolBilling, or not GpuPoolBilling at all); this"
              + " operator needs version "
              + EXPECTED_VERSION
              + ": deploy it with ./gpupool chain deploy and point"
              + " gpupool.billing.contract-address at the new address",
          e);
    }
    if (!EXPECTED_VERSION.equals(deployed)) {
      throw new ContractVersionMismatchException(
          "the contract at "
              + config.contractAddress()
              + " is GpuPoolBilling version "
              + deployed
              + ", this operator speaks version "
              + EXPECTED_VERSION
              + ": deploy a matching contract (./gpupool chain deploy) or run a matching operator",
          null);
    }
  }

  @Override
  public SignedSettlement signSettlement(List<SettlementItem> items, long minNonce) {
    if (items.isEmpty()) {
      throw new IllegalArgumentException("empty batch");
    }
    return signCall(encodeSettleBatch(items), minNonce);
  }

  @Override
  public SignedSettlement signOpenDispute(
      PairId pair, BigInteger amountWei, byte[] evidenceHash, String whistleblower, long minNonce) {
    return signCall(
        FunctionEncoder.encode(openDisputeCall(pair, amountWei, evidenceHash, whistleblower)),
        minNonce);
  }

  @Override
  public SignedSettlement signResolveDispute(PairId pair, boolean fraud, long minNonce) {
    return signCall(FunctionEncoder.encode(resolveDisputeCall(pair, fraud)), minNonce);
  }

  @Override
  public SignedSettlement signExpireDispute(PairId pair, long minNonce) {
    return signCall(FunctionEncoder.encode(expireDisputeCall(pair)), minNonce);
  }

  @Override
  public SignedSettlement signSlashStake(
      String provider, byte[] evidenceHash, String whistleblower, long minNonce) {
    return signCall(
        FunctionEncoder.encode(slashStakeCall(provider, evidenceHash, whistleblower)), minNonce);
  }

  /**
   * Dry-run {@code data} (a refusal throws, decoded) and sign it at the node's pending nonce, at
   * least {@code minNonce}, without sending it.
   */
  private SignedSettlement signCall(String data, long minNonce) {
    BigInteger gasLimit = estimateGas(data);
    BigInteger gasPrice = config.gasPolicy().price(send(web3j.ethGasPrice()).getGasPrice(), 0);
    long pending =
        send(web3j.ethGetTransactionCount(reporter.getAddress(), DefaultBlockParameterName.PENDING))
            .getTransactionCount()
            .longValueExact();
    return sign(Math.max(pending, minNonce), data, gasLimit, gasPrice);
  }

  private SignedSettlement sign(long nonce, String data, BigInteger gasLimit, BigInteger price) {
    RawTransaction tx =
        RawTransaction.createTransaction(
            BigInteger.valueOf(nonce), price, gasLimit, config.contractAddress(), data);
    String raw =
        Numeric.toHexString(TransactionEncoder.signMessage(tx, config.chainId(), reporter));
    return new SignedSettlement(nonce, Hash.sha3(raw), raw, price);
  }

  @Override
  public Optional<SignedSettlement> signReplacement(SignedSettlement previous, int attempt) {
    RawTransaction old = TransactionDecoder.decode(previous.rawTx());
    BigInteger byPolicy =
        config.gasPolicy().price(send(web3j.ethGasPrice()).getGasPrice(), attempt);
    BigInteger price =
        byPolicy.max(SignedSettlement.minimumReplacementPrice(previous.gasPriceWei()));
    if (price.compareTo(config.gasPolicy().maxWei()) > 0) {
      return Optional.empty(); // at the cap: keep waiting rather than overpay
    }
    return Optional.of(sign(previous.nonce(), old.getData(), old.getGasLimit(), price));
  }

  @Override
  public BroadcastResult broadcast(String rawTx) {
    EthSendTransaction result = send(web3j.ethSendRawTransaction(rawTx));
    if (!result.hasError()) {
      return BroadcastResult.ACCEPTED;
    }
    String msg = result.getError().getMessage().toLowerCase(Locale.ROOT);
    if (msg.contains("already known") || msg.contains("already imported")) {
      return BroadcastResult.ALREADY_KNOWN;
    }
    if (msg.contains("nonce too low") || msg.contains("nonce has already been used")) {
      return BroadcastResult.NONCE_USED;
    }
    if (msg.contains("underpriced")) {
      return BroadcastResult.UNDERPRICED;
    }
    throw new ChainRevertException(decoder.decode(errorText(result)), null);
  }

  @Override
  public long minedNonce() {
    return send(web3j.ethGetTransactionCount(
            reporter.getAddress(), DefaultBlockParameterName.LATEST))
        .getTransactionCount()
        .longValueExact();
  }

  @Override
  public boolean isProviderRegistered(String provider) {
    return view(GpuPoolBilling.FUNC_ISREGISTEREDPROVIDER, List.of(new Address(provider)), BOOL)
        .bool(0);
  }

  private BigInteger estimateGas(String data) {
    Transaction call =
        Transaction.createEthCallTransaction(reporter.getAddress(), config.contractAddress(), data);
    EthCall dryRun = send(web3j.ethCall(call, DefaultBlockParameterName.PENDING));
    if (dryRun.hasError() || dryRun.isReverted()) {
      throw new ChainRevertException(decoder.decode(errorText(dryRun)), null);
    }
    EthEstimateGas estimate = send(web3j.ethEstimateGas(call));
    if (estimate.hasError()) {
      throw new ChainRevertException(decoder.decode(errorText(estimate)), null);
    }
    return estimate
        .getAmountUsed()
        .multiply(BigInteger.valueOf(config.gasLimitPercent()))
        .divide(BigInteger.valueOf(100));
  }

  @Override
  public Optional<SettlementReceipt> receipt(String txHash) {
    Optional<TransactionReceipt> r =
        send(web3j.ethGetTransactionReceipt(txHash)).getTransactionReceipt();
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
    var tx = send(web3j.ethGetTransactionByHash(txHash)).getTransaction();
    if (tx.isEmpty()) {
      return new DecodedError("Unknown", "", List.of("transaction not found"));
    }
    Transaction call =
        Transaction.createEthCallTransaction(
            tx.get().getFrom(), tx.get().getTo(), tx.get().getInput());
    BigInteger parent = receipt.getBlockNumber().subtract(BigInteger.ONE).max(BigInteger.ZERO);
    EthCall replay = send(web3j.ethCall(call, DefaultBlockParameter.valueOf(parent)));
    return decoder.decode(errorText(replay));
  }

  @Override
  public boolean isKnown(String txHash) {
    return send(web3j.ethGetTransactionByHash(txHash)).getTransaction().isPresent();
  }

  @Override
  public List<PairEvent> pairEvents(long fromBlock) {
    List<PairEvent> out = new ArrayList<>();
    for (Log log : logs(fromBlock, latestBlock(), SETTLED_TOPIC, OVERDRAWN_TOPIC)) {
      toPairEvent(log).ifPresent(out::add);
    }
    return out;
  }

  @Override
  public ProviderRegistrations providerRegistrations(long fromBlock) {
    long latest = latestBlock();
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
    List<Log> out = new ArrayList<>();
    for (long from = fromBlock; from <= toBlock; from += config.logChunkBlocks()) {
      long to = Math.min(toBlock, from + config.logChunkBlocks() - 1);
      EthFilter filter =
          new EthFilter(
              DefaultBlockParameter.valueOf(BigInteger.valueOf(from)),
              DefaultBlockParameter.valueOf(BigInteger.valueOf(to)),
              config.contractAddress());
      filter.addOptionalTopics(topics);
      EthLog logs = send(web3j.ethGetLogs(filter));
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

  @Override
  public PairOnChain pairState(PairId pair) {
    Answer a = view(GpuPoolBilling.FUNC_PAIRSTATE, pairArguments(pair), UINT256, UINT256);
    return new PairOnChain(a.uint(0), a.uint(1));
  }

  @Override
  public EscrowState escrow(String payer) {
    Answer a =
        view(GpuPoolBilling.FUNC_ESCROWOF, List.of(new Address(payer)), UINT256, UINT256, UINT64);
    return new EscrowState(a.uint(0), a.uint(1), a.uint64(2));
  }

  @Override
  public BigInteger providerBalance(String provider) {
    return view(GpuPoolBilling.FUNC_PROVIDERBALANCE, List.of(new Address(provider)), UINT256)
        .uint(0);
  }

  @Override
  public StakeState stake(String provider) {
    Answer a =
        view(GpuPoolBilling.FUNC_STAKEOF, List.of(new Address(provider)), UINT256, UINT256, UINT64);
    return new StakeState(a.uint(0), a.uint(1), a.uint64(2));
  }

  @Override
  public MaturingEarnings earnings(String provider) {
    Answer a =
        view(GpuPoolBilling.FUNC_MATURINGOF, List.of(new Address(provider)), UINT256, UINT64);
    return new MaturingEarnings(providerBalance(provider), a.uint(0), a.uint64(1));
  }

  @Override
  public Duration challengeWindow() {
    return Duration.ofSeconds(
        view(GpuPoolBilling.FUNC_CHALLENGEWINDOW, List.of(), UINT64).uint64(0));
  }

  @Override
  public DisputeState dispute(PairId pair) {
    Answer a =
        view(
            GpuPoolBilling.FUNC_DISPUTEOF,
            pairArguments(pair),
            UINT256,
            UINT256,
            ADDRESS,
            UINT64,
            BOOL);
    return new DisputeState(a.uint(0), a.uint(1), a.address(2), a.uint64(3), a.bool(4));
  }

  @Override
  public String openDispute(
      PairId pair, BigInteger amountWei, byte[] evidenceHash, String whistleblower) {
    return sendCall(openDisputeCall(pair, amountWei, evidenceHash, whistleblower));
  }

  @Override
  public String resolveDispute(PairId pair, boolean fraud) {
    return sendCall(resolveDisputeCall(pair, fraud));
  }

  @Override
  public String expireDispute(PairId pair) {
    return sendCall(expireDisputeCall(pair));
  }

  @Override
  public Duration disputeDeadline() {
    return Duration.ofSeconds(
        view(GpuPoolBilling.FUNC_DISPUTE_DEADLINE, List.of(), UINT64).uint64(0));
  }

  @Override
  public Instant chainTime() {
    return Instant.ofEpochSecond(
        send(web3j.ethGetBlockByNumber(DefaultBlockParameterName.LATEST, false))
            .getBlock()
            .getTimestamp()
            .longValueExact());
  }

  @Override
  public String slashStake(String provider, byte[] evidenceHash, String whistleblower) {
    return sendCall(slashStakeCall(provider, evidenceHash, whistleblower));
  }

  private static Function slashStakeCall(
      String provider, byte[] evidenceHash, String whistleblower) {
    return new Function(
        GpuPoolBilling.FUNC_SLASHSTAKE,
        List.of(new Address(provider), evidence(evidenceHash), new Address(whistleblower)),
        List.of());
  }

  private static Bytes32 evidence(byte[] evidenceHash) {
    if (evidenceHash.length != 32) {
      throw new IllegalArgumentException(
          "an evidence hash is 32 bytes, not " + evidenceHash.length);
    }
    return new Bytes32(evidenceHash);
  }

  private static Function expireDisputeCall(PairId pair) {
    return new Function(GpuPoolBilling.FUNC_EXPIREDISPUTE, pairArguments(pair), List.of());
  }

  private static Function openDisputeCall(
      PairId pair, BigInteger amountWei, byte[] evidenceHash, String whistleblower) {
    if (evidenceHash.length != 32) {
      throw new IllegalArgumentException(
          "an evidence hash is 32 bytes, not " + evidenceHash.length);
    }
    List<Type> args = new ArrayList<>(pairArguments(pair));
    args.add(new Uint256(amountWei));
    args.add(new Bytes32(evidenceHash));
    args.add(new Address(whistleblower));
    return new Function(GpuPoolBilling.FUNC_OPENDISPUTE, args, List.of());
  }

  private static Function resolveDisputeCall(PairId pair, boolean fraud) {
    List<Type> args = new ArrayList<>(pairArguments(pair));
    args.add(new Bool(fraud));
    return new Function(GpuPoolBilling.FUNC_RESOLVEDISPUTE, args, List.of());
  }

  @Override
  public String signerAddress() {
    return reporter.getAddress().toLowerCase(Locale.ROOT);
  }

  private static List<Type> pairArguments(PairId pair) {
    return List.of(
        new Address(pair.payer()), new Bytes16(pair.jobIdHash()), new Address(pair.provider()));
  }

  /**
   * Dry-run (decoded revert before any gas is spent), then sign at the node's next pending nonce
   * and send; once more if that nonce was taken meanwhile. Not persisted: for tools. The operator
   * sends disputes through the settlement outbox instead ({@link DisputeSigner}, {@code
   * OutboxTrustChain}), so they are re-broadcast, replaced and resumed like settlements.
   */
  private String sendCall(Function f) {
    String data = FunctionEncoder.encode(f);
    BigInteger gasLimit = estimateGas(data);
    BigInteger gasPrice = config.gasPolicy().price(send(web3j.ethGasPrice()).getGasPrice(), 0);
    for (int attempt = 0; ; attempt++) {
      long nonce =
          send(web3j.ethGetTransactionCount(
                  reporter.getAddress(), DefaultBlockParameterName.PENDING))
              .getTransactionCount()
              .longValueExact();
      SignedSettlement signed = sign(nonce, data, gasLimit, gasPrice);
      BroadcastResult r = broadcast(signed.rawTx());
      if (r == BroadcastResult.ACCEPTED || r == BroadcastResult.ALREADY_KNOWN) {
        return signed.txHash();
      }
      if (attempt > 0) {
        throw new ChainException("nonce " + nonce + " taken twice while sending: " + r, null);
      }
    }
  }

  @Override
  public long latestBlock() {
    return send(web3j.ethBlockNumber()).getBlockNumber().longValueExact();
  }

  /** Call view {@code function} at the latest block and decode its {@code outputs}. */
  private Answer view(String function, List<Type> args, Out... outputs) {
    Function f = ContractView.function(function, args, outputs);
    return ContractView.decode(f, callLatest(FunctionEncoder.encode(f)), config.contractAddress());
  }

  /** The raw answer of an eth_call of {@code data} at the latest block. */
  private String callLatest(String data) {
    EthCall r =
        send(
            web3j.ethCall(
                Transaction.createEthCallTransaction(null, config.contractAddress(), data),
                DefaultBlockParameterName.LATEST));
    if (r.hasError() || r.isReverted()) {
      throw new ChainRevertException(decoder.decode(errorText(r)), null);
    }
    return r.getValue();
  }

  private static String errorText(Response<?> r) {
    if (r instanceof EthCall call && call.isReverted() && !r.hasError()) {
      return call.getRevertReason() + " " + call.getValue();
    }
    if (!r.hasError()) {
      return "";
    }
    Object data = r.getError().getData();
    return (data == null ? "" : data + " ") + r.getError().getMessage();
  }

  private <T extends Response<?>> T send(org.web3j.protocol.core.Request<?, T> request) {
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

  @Override
  public void close() {
    web3j.shutdown();
  }
}
