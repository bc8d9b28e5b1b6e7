package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.server.mock.KubernetesAttributesExtractor;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.crud.Attribute;
import io.fabric8.mockwebserver.crud.AttributeSet;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The Fabric8 mock's CRUD dispatcher with its objects indexed by resource (plural), namespace, name
 * and owner. The dispatcher answers every request that names an object by testing every stored
 * object against the request's attributes: with 5,000 nodes and their leases stored a GET took 175
 * ms, and every create, update, patch and delete paid that scan once or twice. Here a request tests
 * only the objects of its resource with its name (or namespace), with the dispatcher's own
 * matching, so it finds exactly what the scan would have found.
 *
 * <p>Every stored object enters and leaves the dispatcher's map through {@link #processEvent}
 * (create, replace, patch, delete, seed); the index follows it there. Writers are serialized by the
 * sandbox's write lock; readers see the index through concurrent maps and always read the object
 * itself from the dispatcher's map, so an index entry a writer is about to remove reads as absent.
 * Reads wait for a write in progress ({@link #wholeWrites}): the dispatcher updates an object by
 * taking its old version out of the map before it puts the new one in, and a read in between would
 * miss an object that exists (kubectl's wait answered NotFound for a job just applied).
 *
 * <p>The same entry point records every write in a {@link WatchHistory}, from which a watch that
 * starts at a resourceVersion is replayed (the dispatcher alone only sends the objects as they are
 * now, so a deletion between a client's list and its watch was never seen). A deletion gets a
 * resourceVersion of its own, as in kube-apiserver, so a list after it reports a version past it.
 */
final class IndexedCrudDispatcher extends KubernetesCrudDispatcher {

  private static final String PLURAL = "plural";
  private static final String NAMESPACE = "namespace";
  private static final String NAME = "name";
  private static final String OWNER_REFERENCES = "\"ownerReferences\"";

  private final Map<String, Set<AttributeSet>> byPlural = new ConcurrentHashMap<>();
  private final Map<String, Set<AttributeSet>> byPluralNamespace = new ConcurrentHashMap<>();
  private final Map<String, Set<AttributeSet>> byPluralName = new ConcurrentHashMap<>();
  private final Map<String, Set<AttributeSet>> byOwnerUid = new ConcurrentHashMap<>();
  private final Map<AttributeSet, List<String>> ownersOf = new ConcurrentHashMap<>();
  private final AtomicLong lastResourceVersion = new AtomicLong();
  private final AtomicLong objectsTested = new AtomicLong();
  private final WatchHistory history = new WatchHistory(WatchHistory.DEFAULT_CAPACITY);
  private volatile Lock dispatcherWriteLock;
  private final ReentrantReadWriteLock wholeWrites = new ReentrantReadWriteLock();

  IndexedCrudDispatcher() {
    // reset() takes the dispatcher's write lock, and locked() below hears of it: from now on the
    // writes that bypass the dispatcher's own entry points (seed, delete through the index) hold
    // it too, so its watch replays, which iterate the map under the read lock, never see the map
    // change under them.
    super.reset();
    if (dispatcherWriteLock == null) {
      throw new IllegalStateException("the CRUD dispatcher did not show its write lock");
    }
  }

  @Override
  protected void locked(Lock lock) {
    if (lock instanceof ReentrantReadWriteLock.WriteLock) {
      dispatcherWriteLock = lock;
    }
  }

  /**
   * The stored objects (JSON) that the request path {@code path} names: one or none for an item
   * path, the collection's objects for a collection path (label and field selectors in its query
   * applied as the dispatcher applies them).
   */
  List<String> find(String path) {
    AttributeSet query = attributeExtractor.fromPath(path);
    List<String> found = new ArrayList<>();
    wholeWrites.readLock().lock();
    try {
      for (AttributeSet key : candidates(query)) {
        objectsTested.incrementAndGet();
        if (key.matches(query)) {
          String json = map.get(key);
          if (json != null) {
            found.add(json);
          }
        }
      }
    } finally {
      wholeWrites.readLock().unlock();
    }
    return found;
  }

  /** Every stored object (JSON), none missing for a write in progress. */
  List<String> stored() {
    wholeWrites.readLock().lock();
    try {
      synchronized (map) {
        return new ArrayList<>(map.values());
      }
    } finally {
      wholeWrites.readLock().unlock();
    }
  }

  /** The stored objects (JSON) whose owner references name {@code uid}. */
  List<String> ownedBy(String uid) {
    List<String> found = new ArrayList<>();
    wholeWrites.readLock().lock();
    try {
      for (AttributeSet key : byOwnerUid.getOrDefault(uid, Set.of())) {
        String json = map.get(key);
        if (json != null) {
          found.add(json);
        }
      }
    } finally {
      wholeWrites.readLock().unlock();
    }
    return found;
  }

  /** The resourceVersion of the last write, the version a list reports. */
  String resourceVersion() {
    return String.valueOf(lastResourceVersion.get());
  }

  /** How many stored objects requests have been tested against so far (for tests). */
  long objectsTested() {
    return objectsTested.get();
  }

  @Override
  public long requestResourceVersion() {
    long next = super.requestResourceVersion();
    lastResourceVersion.accumulateAndGet(next, Math::max);
    return next;
  }

  @Override
  public Map.Entry<AttributeSet, String> findResource(AttributeSet attributes) {
    for (AttributeSet key : candidates(attributes)) {
      objectsTested.incrementAndGet();
      if (key.matches(attributes)) {
        String json = map.get(key);
        if (json != null) {
          return new AbstractMap.SimpleImmutableEntry<>(key, json);
        }
      }
    }
    return null;
  }

  /**
   * Keeps the index in step with the dispatcher's map. The new key is indexed before the dispatcher
   * stores the object and tells its watchers (a watcher that reads the object back at once finds
   * it); the old one is dropped after the object left the map, unless it is the new one too.
   */
  @Override
  public void processEvent(
      String path,
      AttributeSet pathAttributes,
      AttributeSet oldAttributes,
      GenericKubernetesResource resource,
      String newState) {
    Lock lock = dispatcherWriteLock;
    lock.lock();
    wholeWrites.writeLock().lock();
    try {
      AttributeSet newAttributes = null;
      if (newState != null) {
        newAttributes = keyOf(pathAttributes, resource, newState);
        index(newAttributes, newState);
      }
      String oldState = oldAttributes == null ? null : map.get(oldAttributes);
      long deletionVersion = 0;
      if (newState == null && oldState != null) {
        // the dispatcher sends watchers the object it removes: it carries the deletion's version
        deletionVersion = requestResourceVersion();
        oldState = withResourceVersion(oldState, deletionVersion);
        map.put(oldAttributes, oldState);
      }
      super.processEvent(path, pathAttributes, oldAttributes, resource, newState);
      if (!Objects.equals(oldState, newState)) {
        long version = newState == null ? deletionVersion : resourceVersionOf(resource, newState);
        remember(
            new WatchHistory.Write(
                version,
                oldState == null ? null : oldAttributes,
                oldState,
                newAttributes,
                newState));
      }
      if (newAttributes != null && !map.containsKey(newAttributes)) {
        throw new IllegalStateException(
            "sandbox store index out of step with the dispatcher for " + path);
      }
      if (oldAttributes != null && !oldAttributes.equals(newAttributes)) {
        unindex(oldAttributes);
      }
    } finally {
      wholeWrites.writeLock().unlock();
      lock.unlock();
    }
  }

  /**
   * Deletes what {@code path} names as the dispatcher does, found through the index: an object
   * without finalizers goes, one with finalizers is marked with a deletionTimestamp (once).
   */
  @Override
  public MockResponse handleDelete(String path) {
    Lock lock = dispatcherWriteLock;
    lock.lock();
    try {
      return deleteIndexed(path);
    } finally {
      lock.unlock();
    }
  }

  private MockResponse deleteIndexed(String path) {
    AttributeSet query = attributeExtractor.fromPath(path);
    List<Map.Entry<AttributeSet, String>> targets = new ArrayList<>();
    for (AttributeSet key : candidates(query)) {
      objectsTested.incrementAndGet();
      String json = map.get(key);
      if (json != null && key.matches(query)) {
        targets.add(new AbstractMap.SimpleImmutableEntry<>(key, json));
      }
    }
    for (Map.Entry<AttributeSet, String> target : targets) {
      GenericKubernetesResource resource =
          Serialization.unmarshal(target.getValue(), GenericKubernetesResource.class);
      if (resource.getFinalizers().isEmpty()) {
        processEvent(path, query, target.getKey(), null, null);
      } else if (!resource.isMarkedForDeletion()) {
        resource
            .getMetadata()
            .setDeletionTimestamp(
                ZonedDateTime.now(ZoneOffset.UTC)
                    .truncatedTo(ChronoUnit.SECONDS)
                    .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        resource.getMetadata().setResourceVersion(String.valueOf(requestResourceVersion()));
        processEvent(path, query, target.getKey(), resource, Serialization.asJson(resource));
      }
    }
    MockResponse response = new MockResponse();
    if (targets.isEmpty() && query.containsKey(NAME)) {
      return response.setResponseCode(404);
    }
    if (!targets.isEmpty()) {
      response.setBody(targets.get(0).getValue());
    }
    return response.setResponseCode(200);
  }

  /**
   * Opens a watch on {@code watchPath} that sends its events to {@code stream}. From version 0 the
   * dispatcher sends every matching object as ADDED, then what changes. From a later version the
   * stream drops that snapshot and gets every recorded write after the version instead, then what
   * changes. Nothing is written in between (the dispatcher's write lock is held), so no event is
   * lost or sent twice. Empty when writes after {@code sinceVersion} are no longer recorded: the
   * client must list again (410 Gone).
   */
  Optional<WebSocketListener> openWatch(String watchPath, long sinceVersion, WatchStream stream) {
    Lock lock = dispatcherWriteLock;
    lock.lock();
    try {
      AttributeSet query = attributeExtractor.fromPath(watchPath);
      List<WatchHistory.Write> replay = List.of();
      if (sinceVersion > 0) {
        String plural = value(query, PLURAL);
        if (plural != null) {
          Optional<List<WatchHistory.Write>> recorded = history.after(plural, sinceVersion);
          if (recorded.isEmpty()) {
            return Optional.empty();
          }
          replay = recorded.get();
        }
        stream.dropFirst(snapshotSize(query));
      }
      MockResponse response = handleWatch(watchPath);
      WebSocketListener listener = response.getWebSocketListener();
      listener.onOpen(stream, response);
      for (WatchHistory.Write w : replay) {
        String event = w.eventFor(query);
        if (event != null) {
          stream.replay(event);
        }
      }
      return Optional.of(listener);
    } finally {
      lock.unlock();
    }
  }

  /** Keeps at most {@code writesPerResource} recorded writes of each resource (for tests). */
  void limitWatchHistory(int writesPerResource) {
    Lock lock = dispatcherWriteLock;
    lock.lock();
    try {
      history.limit(writesPerResource);
    } finally {
      lock.unlock();
    }
  }

  /** The oldest version a watch of the resource {@code watchPath} names may start from. */
  long oldestReplayable(String watchPath) {
    String plural = value(attributeExtractor.fromPath(watchPath), PLURAL);
    return plural == null ? 0 : history.oldestReplayable(plural);
  }

  /** How many objects the dispatcher sends a new watch on {@code query} as its snapshot. */
  private int snapshotSize(AttributeSet query) {
    int n = 0;
    for (AttributeSet key : candidates(query)) {
      if (key.matches(query) && map.containsKey(key)) {
        n++;
      }
    }
    return n;
  }

  private void remember(WatchHistory.Write w) {
    String plural = value(w.newKey() != null ? w.newKey() : w.oldKey(), PLURAL);
    if (plural != null) {
      history.record(plural, w);
    }
  }

  private long resourceVersionOf(GenericKubernetesResource resource, String json) {
    String rv =
        resource != null && resource.getMetadata() != null
            ? resource.getMetadata().getResourceVersion()
            : Json.parse(json).path("metadata").path("resourceVersion").asText(null);
    try {
      return rv == null ? lastResourceVersion.get() : Long.parseLong(rv);
    } catch (NumberFormatException e) {
      return lastResourceVersion.get();
    }
  }

  private static String withResourceVersion(String json, long version) {
    ObjectNode object = (ObjectNode) Json.parse(json);
    Json.obj(object, "metadata").put("resourceVersion", String.valueOf(version));
    return Json.write(object);
  }

  @Override
  public void reset() {
    super.reset();
    if (history != null) {
      history.clear();
    }
    byPlural.clear();
    byPluralNamespace.clear();
    byPluralName.clear();
    byOwnerUid.clear();
    ownersOf.clear();
  }

  /** The key the dispatcher stores {@code newState} under (as its processEvent computes it). */
  private AttributeSet keyOf(
      AttributeSet pathAttributes, GenericKubernetesResource resource, String newState) {
    KubernetesAttributesExtractor extractor = (KubernetesAttributesExtractor) attributeExtractor;
    AttributeSet key =
        resource != null ? extractor.extract(resource) : extractor.fromResource(newState);
    return key.containsKey(PLURAL) ? key : AttributeSet.merge(pathAttributes, key);
  }

  /** The stored keys that can match {@code query}: a superset of the dispatcher's scan's hits. */
  private Collection<AttributeSet> candidates(AttributeSet query) {
    String plural = value(query, PLURAL);
    if (plural == null) {
      synchronized (map) {
        return new ArrayList<>(map.keySet());
      }
    }
    String name = value(query, NAME);
    String namespace = value(query, NAMESPACE);
    Set<AttributeSet> bucket;
    if (name != null) {
      bucket = byPluralName.get(plural + '\0' + name);
    } else if (namespace != null) {
      bucket = byPluralNamespace.get(plural + '\0' + namespace);
    } else {
      bucket = byPlural.get(plural);
    }
    return bucket == null ? List.of() : new ArrayList<>(bucket);
  }

  private void index(AttributeSet key, String json) {
    String plural = value(key, PLURAL);
    if (plural == null) {
      return; // never matches a query that names a resource; those without one scan the map
    }
    add(byPlural, plural, key);
    String namespace = value(key, NAMESPACE);
    if (namespace != null) {
      add(byPluralNamespace, plural + '\0' + namespace, key);
    }
    String name = value(key, NAME);
    if (name != null) {
      add(byPluralName, plural + '\0' + name, key);
    }
    List<String> owners = ownerUids(json);
    if (!owners.isEmpty()) {
      ownersOf.put(key, owners);
      owners.forEach(uid -> add(byOwnerUid, uid, key));
    }
  }

  private void unindex(AttributeSet key) {
    String plural = value(key, PLURAL);
    if (plural == null) {
      return;
    }
    remove(byPlural, plural, key);
    String namespace = value(key, NAMESPACE);
    if (namespace != null) {
      remove(byPluralNamespace, plural + '\0' + namespace, key);
    }
    String name = value(key, NAME);
    if (name != null) {
      remove(byPluralName, plural + '\0' + name, key);
    }
    List<String> owners = ownersOf.remove(key);
    if (owners != null) {
      owners.forEach(uid -> remove(byOwnerUid, uid, key));
    }
  }

  /** The uids in the object's owner references (most objects have none: no parse then). */
  private static List<String> ownerUids(String json) {
    if (!json.contains(OWNER_REFERENCES)) {
      return List.of();
    }
    List<String> uids = new ArrayList<>();
    for (JsonNode ref : Json.parse(json).path("metadata").path("ownerReferences")) {
      String uid = ref.path("uid").asText("");
      if (!uid.isEmpty()) {
        uids.add(uid);
      }
    }
    return uids;
  }

  private static void add(Map<String, Set<AttributeSet>> index, String k, AttributeSet key) {
    index.computeIfAbsent(k, x -> ConcurrentHashMap.newKeySet()).add(key);
  }

  private static void remove(Map<String, Set<AttributeSet>> index, String k, AttributeSet key) {
    index.computeIfPresent(
        k,
        (x, keys) -> {
          keys.remove(key);
          return keys.isEmpty() ? null : keys;
        });
  }

  private static String value(AttributeSet set, String attribute) {
    Attribute a = set.getAttribute(attribute);
    if (a == null || a.getValues().size() != 1) {
      return null;
    }
    Object v = a.getValues().get(0);
    return v == null ? null : v.toString();
  }
}
