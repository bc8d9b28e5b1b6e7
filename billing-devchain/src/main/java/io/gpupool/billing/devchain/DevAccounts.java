package io.gpupool.billing.devchain;

import org.web3j.crypto.Bip32ECKeyPair;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.MnemonicUtils;

/**
 * anvil's funded development accounts, derived from its well-known public test mnemonic (BIP-44
 * path m/44'/60'/0'/0/i). Public knowledge: for local chains only, never for real money.
 */
public final class DevAccounts {

  /** anvil's default mnemonic. */
  public static final String MNEMONIC =
      "test test test test test test test test test test test junk";

  /** Role of each account in the sandbox and tests. */
  public static final int OWNER = 0;

  public static final int REPORTER = 1;
  public static final int FIRST_PAYER = 2;
  public static final int FIRST_PROVIDER = 6;

  private static final Bip32ECKeyPair MASTER =
      Bip32ECKeyPair.generateKeyPair(MnemonicUtils.generateSeed(MNEMONIC, ""));

  private DevAccounts() {}

  /** Account {@code index} (anvil funds 0..9 with 10,000 ETH each). */
  public static Credentials account(int index) {
    int[] path = {
      44 | Bip32ECKeyPair.HARDENED_BIT,
      60 | Bip32ECKeyPair.HARDENED_BIT,
      Bip32ECKeyPair.HARDENED_BIT,
      0,
      index
    };
    return Credentials.create(Bip32ECKeyPair.deriveKeyPair(MASTER, path));
  }
}
