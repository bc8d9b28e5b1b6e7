package io.gpupool.scheduler.trust;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A Merkle tree over a challenge's round digests, so that a node can commit to millions of products
 * with one 64-hex-digit root and open any of them later with log2(n) hashes. The operator then
 * recomputes only the few products it asks to see, instead of every product behind a digest.
 *
 * <ul>
 *   <li>leaf i = SHA-256(0x00 ‖ i as 8 bytes big-endian ‖ the round's 8-byte digest): the position
 *       is inside the leaf, so a digest cannot be opened at another round's place;
 *   <li>inner node = SHA-256(0x01 ‖ left ‖ right); the prefixes keep a leaf from passing for a
 *       node;
 *   <li>a level of odd length carries its last node up unchanged (no duplicate to forge with).
 * </ul>
 *
 * examples/workloads/challenge.py computes the same root ({@code tree_root}; DigestTreeTest pins
 * it) and serves its openings, as the sandbox's simulated kubelet does ({@link ChallengeWire}); the
 * operator's challenge runner asks for them and checks them with {@link LeafOpenings}.
 */
public final class DigestTree {
  private static final Pattern DIGEST = Pattern.compile("[0-9a-f]{16}");
  private static final HexFormat HEX = HexFormat.of();

  private DigestTree() {}

  /**
   * One opened leaf: its position, its digest and the sibling hashes from the leaf up (a level
   * where the node had no sibling contributes nothing).
   */
  public record Opening(long index, String digest, List<String> path) {
    public Opening {
      Objects.requireNonNull(digest, "digest");
      path = List.copyOf(path);
    }
  }

  /** The root, in hex, of the tree over {@code digests} (16 hex digits each, in round order). */
  public static String root(List<String> digests) {
    List<byte[]> level = leaves(digests);
    while (level.size() > 1) {
      level = up(level);
    }
    return HEX.formatHex(level.get(0));
  }

  /** The opening of leaf {@code index}. */
  public static Opening open(List<String> digests, long index) {
    if (index < 0 || index >= digests.size()) {
      throw new IllegalArgumentException("leaf " + index + " outside 0.." + (digests.size() - 1));
    }
    List<byte[]> level = leaves(digests);
    List<String> path = new ArrayList<>();
    long i = index;
    while (level.size() > 1) {
      long sibling = i ^ 1;
      if (sibling < level.size()) {
        path.add(HEX.formatHex(level.get((int) sibling)));
      }
      level = up(level);
      i >>= 1;
    }
    return new Opening(index, digests.get((int) index), path);
  }

  /**
   * Whether {@code opening} is leaf {@code opening.index()} of a tree of {@code leaves} leaves
   * whose root is {@code root}. Malformed input (a digest or hash that is not hex of the right
   * length, a path of the wrong length, an index outside the tree) does not verify.
   */
  public static boolean verifies(String root, long leaves, Opening opening) {
    if (root == null
        || leaves < 1
        || opening.index() < 0
        || opening.index() >= leaves
        || !DIGEST.matcher(opening.digest()).matches()) {
      return false;
    }
    byte[] hash = leaf(opening.index(), opening.digest());
    long i = opening.index();
    long width = leaves;
    int used = 0;
    try {
      while (width > 1) {
        long sibling = i ^ 1;
        if (sibling < width) {
          if (used >= opening.path().size()) {
            return false;
          }
          byte[] other = hash(opening.path().get(used++));
          hash = (i & 1) == 0 ? node(hash, other) : node(other, hash);
        }
        i >>= 1;
        width = (width + 1) / 2;
      }
      return used == opening.path().size() && HEX.formatHex(hash).equals(root);
    } catch (IllegalArgumentException e) {
      return false; // a path entry that is not a 32-byte hash in hex
    }
  }

  /** Hashes computed to verify one opening in a tree of {@code leaves}: what the operator pays. */
  public static int hashesPerOpening(long leaves) {
    return 1 + 64 - Long.numberOfLeadingZeros(Math.max(1, leaves) - 1);
  }

  private static byte[] hash(String hex) {
    byte[] b = HEX.parseHex(hex);
    if (b.length != 32) {
      throw new IllegalArgumentException("not a SHA-256 hash: " + hex);
    }
    return b;
  }

  private static List<byte[]> leaves(List<String> digests) {
    if (digests.isEmpty()) {
      throw new IllegalArgumentException("a tree needs at least one digest");
    }
    List<byte[]> out = new ArrayList<>(digests.size());
    for (int i = 0; i < digests.size(); i++) {
      String d = digests.get(i);
      if (d == null || !DIGEST.matcher(d).matches()) {
        throw new IllegalArgumentException("digest " + i + " is not 16 hex digits: " + d);
      }
      out.add(leaf(i, d));
    }
    return out;
  }

  private static List<byte[]> up(List<byte[]> level) {
    List<byte[]> next = new ArrayList<>((level.size() + 1) / 2);
    for (int i = 0; i < level.size(); i += 2) {
      next.add(i + 1 < level.size() ? node(level.get(i), level.get(i + 1)) : level.get(i));
    }
    return next;
  }

  static byte[] leaf(long index, String digest) {
    return sha256(
        ByteBuffer.allocate(17).put((byte) 0).putLong(index).put(HEX.parseHex(digest)).array());
  }

  private static byte[] node(byte[] left, byte[] right) {
    return sha256(ByteBuffer.allocate(65).put((byte) 1).put(left).put(right).array());
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
