package io.gpupool.billing.chain;

import static io.gpupool.billing.chain.ContractView.Out.ADDRESS;
import static io.gpupool.billing.chain.ContractView.Out.BOOL;
import static io.gpupool.billing.chain.ContractView.Out.UINT256;
import static io.gpupool.billing.chain.ContractView.Out.UINT64;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.chain.ContractView.Answer;
import io.gpupool.billing.contract.GpuPoolBilling;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Function;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.crypto.RawTransaction;
import org.web3j.crypto.TransactionDecoder;
import org.web3j.crypto.TransactionEncoder;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthCall;
import org.web3j.protocol.core.methods.response.EthEstimateGas;
import org.web3j.protocol.core.methods.response.EthSendTransaction;
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

  /** The contract interface version ({@code GpuPoolBilling.VERSION}) this client speaks. */
  public static final BigInteger EXPECTED_VERSION = BigInteger.valueOf(6);

  private final ChainConfig config;
  private final Web3j web3j;
  private final Credentials reporter;
  private final RevertDecoder decoder;
  private final ChainRpc rpc;
  private final ContractEvents events;
  private final ProviderEarnings earnings;

  public Web3jBillingChain(ChainConfig config, Credentials reporter) {
    this(config, reporter, buildWeb3j(config));
  }

  public Web3jBillingChain(ChainConfig config, Credentials reporter, Web3j web3j) {
    this.config = Objects.requireNonNull(config, "config");
    this.reporter = Objects.requireNonNull(reporter, "reporter");
    this.web3j = Objects.requireNonNull(web3j, "web3j");
    this.decoder = RevertDecoder.forGpuPoolBilling();
    this.rpc = new ChainRpc(config, web3j, decoder);
    this.events = new ContractEvents(config, rpc, decoder);
    this.earnings = new ProviderEarnings(config, rpc);
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
   * Refuse to work against a contract of another interface version: its batch format, events or
   * rules may differ, and settling against it could lose or misdirect money.
   *
   * @throws ContractVersionMismatchException naming both versions and what to do
   */
  public void requireContractVersion() {
    BigInteger deployed;
    try {
      deployed = rpc.view(GpuPoolBilling.FUNC_VERSION, List.of(), UINT256).uint(0);
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
    return signCall(ContractCalls.encodeSettleBatch(items), minNonce);
  }

  @Override
  public SignedSettlement signOpenDispute(
      PairId pair, BigInteger amountWei, byte[] evidenceHash, String whistleblower, long minNonce) {
    return signCall(
        FunctionEncoder.encode(
            ContractCalls.openDisputeCall(pair, amountWei, evidenceHash, whistleblower)),
        minNonce);
  }

  @Override
  public SignedSettlement signResolveDispute(PairId pair, boolean fraud, long minNonce) {
    return signCall(
        FunctionEncoder.encode(ContractCalls.resolveDisputeCall(pair, fraud)), minNonce);
  }

  @Override
  public SignedSettlement signExpireDispute(PairId pair, long minNonce) {
    return signCall(FunctionEncoder.encode(ContractCalls.expireDisputeCall(pair)), minNonce);
  }

  @Override
  public SignedSettlement signSlashStake(
      String provider, byte[] evidenceHash, String whistleblower, long minNonce) {
    return signCall(
        FunctionEncoder.encode(ContractCalls.slashStakeCall(provider, evidenceHash, whistleblower)),
        minNonce);
  }

  /**
   * Dry-run {@code data} (a refusal throws, decoded) and sign it at the node's pending nonce, at
   * least {@code minNonce}, without sending it.
   */
  private SignedSettlement signCall(String data, long minNonce) {
    BigInteger gasLimit = estimateGas(data);
    BigInteger gasPrice = config.gasPolicy().price(rpc.send(web3j.ethGasPrice()).getGasPrice(), 0);
    long pending =
        rpc.send(
                web3j.ethGetTransactionCount(
                    reporter.getAddress(), DefaultBlockParameterName.PENDING))
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
        config.gasPolicy().price(rpc.send(web3j.ethGasPrice()).getGasPrice(), attempt);
    BigInteger price =
        byPolicy.max(SignedSettlement.minimumReplacementPrice(previous.gasPriceWei()));
    if (price.compareTo(config.gasPolicy().maxWei()) > 0) {
      return Optional.empty(); // at the cap: keep waiting rather than overpay
    }
    return Optional.of(sign(previous.nonce(), old.getData(), old.getGasLimit(), price));
  }

  @Override
  public BroadcastResult broadcast(String rawTx) {
    EthSendTransaction result = rpc.send(web3j.ethSendRawTransaction(rawTx));
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
    throw new ChainRevertException(decoder.decode(ChainRpc.errorText(result)), null);
  }

  @Override
  public long minedNonce() {
    return rpc.send(
            web3j.ethGetTransactionCount(reporter.getAddress(), DefaultBlockParameterName.LATEST))
        .getTransactionCount()
        .longValueExact();
  }

  @Override
  public boolean isProviderRegistered(String provider) {
    return rpc.view(GpuPoolBilling.FUNC_ISREGISTEREDPROVIDER, List.of(new Address(provider)), BOOL)
        .bool(0);
  }

  private BigInteger estimateGas(String data) {
    Transaction call =
        Transaction.createEthCallTransaction(reporter.getAddress(), config.contractAddress(), data);
    EthCall dryRun = rpc.send(web3j.ethCall(call, DefaultBlockParameterName.PENDING));
    if (dryRun.hasError() || dryRun.isReverted()) {
      throw new ChainRevertException(decoder.decode(ChainRpc.errorText(dryRun)), null);
    }
    EthEstimateGas estimate = rpc.send(web3j.ethEstimateGas(call));
    if (estimate.hasError()) {
      throw new ChainRevertException(decoder.decode(ChainRpc.errorText(estimate)), null);
    }
    return estimate
        .getAmountUsed()
        .multiply(BigInteger.valueOf(config.gasLimitPercent()))
        .divide(BigInteger.valueOf(100));
  }

  @Override
  public boolean isKnown(String txHash) {
    return rpc.send(web3j.ethGetTransactionByHash(txHash)).getTransaction().isPresent();
  }

  @Override
  public PairOnChain pairState(PairId pair) {
    Answer a =
        rpc.view(
            GpuPoolBilling.FUNC_PAIRSTATE, ContractCalls.pairArguments(pair), UINT256, UINT256);
    return new PairOnChain(a.uint(0), a.uint(1));
  }

  @Override
  public EscrowState escrow(String payer) {
    Answer a =
        rpc.view(
            GpuPoolBilling.FUNC_ESCROWOF, List.of(new Address(payer)), UINT256, UINT256, UINT64);
    return new EscrowState(a.uint(0), a.uint(1), a.uint64(2));
  }

  /** Collected balance plus what the provider's pairs would give up to a collection now. */
  @Override
  public BigInteger providerBalance(String provider) {
    return earnings.earnings(provider).withdrawableWei();
  }

  /** The provider's pairs and what each holds (contract version 6 keeps earnings in the pairs). */
  public ProviderEarnings providerEarnings() {
    return earnings;
  }

  /**
   * Collect the provider's matured earnings out of its pairs into its balance (anyone may), with
   * the signing key: the transaction hash, or empty when no pair holds anything collectable.
   */
  public Optional<String> collect(String provider) {
    Function call = earnings.collectCall(provider);
    return call == null ? Optional.empty() : Optional.of(sendCall(call));
  }

  @Override
  public StakeState stake(String provider) {
    Answer a =
        rpc.view(
            GpuPoolBilling.FUNC_STAKEOF, List.of(new Address(provider)), UINT256, UINT256, UINT64);
    return new StakeState(a.uint(0), a.uint(1), a.uint64(2));
  }

  @Override
  public MaturingEarnings earnings(String provider) {
    return earnings.earnings(provider);
  }

  @Override
  public ProviderEarnings.PairEarnings pairEarnings(PairId pair) {
    return earnings.pairEarnings(pair);
  }

  @Override
  public Duration challengeWindow() {
    return Duration.ofSeconds(
        rpc.view(GpuPoolBilling.FUNC_CHALLENGEWINDOW, List.of(), UINT64).uint64(0));
  }

  @Override
  public DisputeState dispute(PairId pair) {
    Answer a =
        rpc.view(
            GpuPoolBilling.FUNC_DISPUTEOF,
            ContractCalls.pairArguments(pair),
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
    return sendCall(ContractCalls.openDisputeCall(pair, amountWei, evidenceHash, whistleblower));
  }

  @Override
  public String resolveDispute(PairId pair, boolean fraud) {
    return sendCall(ContractCalls.resolveDisputeCall(pair, fraud));
  }

  @Override
  public String expireDispute(PairId pair) {
    return sendCall(ContractCalls.expireDisputeCall(pair));
  }

  @Override
  public Duration disputeDeadline() {
    return Duration.ofSeconds(
        rpc.view(GpuPoolBilling.FUNC_DISPUTE_DEADLINE, List.of(), UINT64).uint64(0));
  }

  @Override
  public Instant chainTime() {
    return Instant.ofEpochSecond(
        rpc.send(web3j.ethGetBlockByNumber(DefaultBlockParameterName.LATEST, false))
            .getBlock()
            .getTimestamp()
            .longValueExact());
  }

  @Override
  public String slashStake(String provider, byte[] evidenceHash, String whistleblower) {
    return sendCall(ContractCalls.slashStakeCall(provider, evidenceHash, whistleblower));
  }

  @Override
  public String signerAddress() {
    return reporter.getAddress().toLowerCase(Locale.ROOT);
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
    BigInteger gasPrice = config.gasPolicy().price(rpc.send(web3j.ethGasPrice()).getGasPrice(), 0);
    for (int attempt = 0; ; attempt++) {
      long nonce =
          rpc.send(
                  web3j.ethGetTransactionCount(
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
    return rpc.latestBlock();
  }

  @Override
  public Optional<SettlementReceipt> receipt(String txHash) {
    return events.receipt(txHash);
  }

  @Override
  public List<PairEvent> pairEvents(long fromBlock) {
    return events.pairEvents(fromBlock);
  }

  @Override
  public ProviderRegistrations providerRegistrations(long fromBlock) {
    return events.providerRegistrations(fromBlock);
  }

  @Override
  public void close() {
    web3j.shutdown();
  }
}
