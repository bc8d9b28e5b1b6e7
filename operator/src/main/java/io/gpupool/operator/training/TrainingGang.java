package io.gpupool.operator.training;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import io.gpupool.operator.podtemplate.PodTemplateMerge;
import io.gpupool.operator.queue.PreemptNotice;
import io.gpupool.operator.status.OwnedObjects;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Kubernetes objects that run a planned training gang: one headless Service and one pod per
 * rank, pinned to its planned node. Pure, so the environment every rank sees is unit-tested.
 *
 * <p>Pods carry the torchrun and PyTorchJob variables images already read, plus gpupool's own
 * ({@link GangEnv}) for the heterogeneous part of the split.
 */
public final class TrainingGang {
  /** torchrun / Trainer v2 default rendezvous port. */
  public static final int MASTER_PORT = 29500;

  public static final String RANK_LABEL = "gpupool.io/rank";
  public static final String GENERATION_LABEL = "gpupool.io/gang-generation";
  public static final String WORKER_CONTAINER = "worker";

  private TrainingGang() {}

  /** The headless Service giving each rank a stable DNS name. */
  public static Service service(TrainingJob job) {
    return OwnedObjects.headlessService(
        job, job.getMetadata().getName(), labels(job), labels(job), "rendezvous", MASTER_PORT);
  }

  /** Stable host name of rank {@code rank} (its DNS name under the headless Service). */
  public static String hostname(TrainingJob job, int rank) {
    return job.getMetadata().getName() + "-worker-" + rank;
  }

  /**
   * Name of rank {@code rank}'s pod in gang generation {@code generation}. Later generations get a
   * suffix so a restarted gang never waits for the old pods to finish terminating.
   */
  public static String podName(TrainingJob job, int rank, int generation) {
    return hostname(job, rank) + (generation == 0 ? "" : "-r" + generation);
  }

  /** DNS name of rank 0, through the headless Service. */
  public static String masterAddress(TrainingJob job) {
    return hostname(job, 0)
        + "."
        + job.getMetadata().getName()
        + "."
        + job.getMetadata().getNamespace()
        + ".svc";
  }

  /**
   * The pods of one gang generation.
   *
   * @param strategy what the plan resolved to (DataParallel or PipelineParallel)
   * @param gangGeneration increments on every restart, so pods of an old gang are never mistaken
   *     for the current one
   * @param resumeFrom checkpoint the ranks should resume from, or null on a fresh start
   */
  public static List<Pod> pods(
      TrainingJob job,
      List<RankAssignment> ranks,
      String strategy,
      int gangGeneration,
      int restarts,
      String resumeFrom) {
    return pods(job, ranks, strategy, gangGeneration, restarts, resumeFrom, null);
  }

  /**
   * The pods of one gang generation that resumes from checkpoint {@code resumeStep} rather than the
   * latest one (spot-checks rewind to the last verified checkpoint; null: the latest).
   */
  public static List<Pod> pods(
      TrainingJob job,
      List<RankAssignment> ranks,
      String strategy,
      int gangGeneration,
      int restarts,
      String resumeFrom,
      Long resumeStep) {
    List<Pod> pods = new ArrayList<>(ranks.size());
    int stages =
        (int)
            ranks.stream()
                .filter(r -> r.stage() >= 0)
                .map(RankAssignment::stage)
                .distinct()
                .count();
    for (RankAssignment rank : ranks) {
      pods.add(
          pod(
              job,
              rank,
              ranks.size(),
              stages,
              strategy,
              gangGeneration,
              restarts,
              resumeFrom,
              resumeStep));
    }
    return pods;
  }

  private static Pod pod(
      TrainingJob job,
      RankAssignment rank,
      int worldNodes,
      int stages,
      String strategy,
      int gangGeneration,
      int restarts,
      String resumeFrom,
      Long resumeStep) {
    TrainingJobSpec spec = job.getSpec();
    Map<String, String> labels = labels(job);
    labels.put(RANK_LABEL, Integer.toString(rank.rank()));
    labels.put(GENERATION_LABEL, Integer.toString(gangGeneration));
    labels.put(GpupoolApi.PROVIDER_LABEL, rank.provider());

    Container container =
        new ContainerBuilder()
            .withName(WORKER_CONTAINER)
            .withImage(spec.image)
            .withCommand(spec.command)
            .withArgs(spec.args)
            .withEnv(env(job, rank, worldNodes, stages, strategy, restarts, resumeFrom, resumeStep))
            .withVolumeMounts(PreemptNotice.mount())
            .addNewPort()
            .withName("rendezvous")
            .withContainerPort(MASTER_PORT)
            .endPort()
            .withResources(OwnedObjects.resources(rank.gpuResource(), rank.gpus(), spec.resources))
            .build();

    // The operator is the gang scheduler; gang restarts are its own, from a checkpoint.
    Pod pod =
        OwnedObjects.boundPod(
                job,
                podName(job, rank.rank(), gangGeneration),
                labels,
                rank.node(),
                hostname(job, rank.rank()),
                job.getMetadata().getName(),
                container)
            .editSpec()
            .withVolumes(PreemptNotice.volume())
            .endSpec()
            .build();
    return PodTemplateMerge.apply(pod, WORKER_CONTAINER, spec.template);
  }

  static List<EnvVar> env(
      TrainingJob job,
      RankAssignment rank,
      int worldNodes,
      int stages,
      String strategy,
      int restarts,
      String resumeFrom,
      Long resumeStep) {
    TrainingJobSpec spec = job.getSpec();
    int procsPerNode = rank.gpus();
    int minNodes =
        spec.parallelism.minWorkers == null
            ? worldNodes
            : Math.min(spec.parallelism.minWorkers, worldNodes);
    boolean elastic = minNodes < worldNodes;
    String master = masterAddress(job);

    Map<String, String> env = new LinkedHashMap<>();
    env.put("MASTER_ADDR", master);
    env.put("MASTER_PORT", Integer.toString(MASTER_PORT));
    env.put("WORLD_SIZE", Integer.toString(worldNodes * procsPerNode));
    env.put("RANK", Integer.toString(rank.rank()));
    env.put("PET_NNODES", elastic ? minNodes + ":" + worldNodes : Integer.toString(worldNodes));
    env.put("PET_NPROC_PER_NODE", Integer.toString(procsPerNode));
    env.put("PET_NODE_RANK", Integer.toString(rank.rank()));
    env.put("PET_MASTER_ADDR", master);
    env.put("PET_MASTER_PORT", Integer.toString(MASTER_PORT));
    if (elastic) {
      env.put("PET_RDZV_ENDPOINT", master + ":" + MASTER_PORT);
      env.put("PET_RDZV_BACKEND", "c10d");
      env.put(
          "PET_RDZV_ID",
          job.getMetadata().getUid() == null
              ? job.getMetadata().getName()
              : job.getMetadata().getUid());
      env.put("PET_MAX_RESTARTS", Integer.toString(spec.backoffLimitOrDefault()));
    }
    env.put("PYTHONUNBUFFERED", "1");

    env.put(GangEnv.JOB_NAME, job.getMetadata().getName());
    env.put(GangEnv.STRATEGY, strategy);
    env.put(GangEnv.GPU_MODEL, rank.gpuProduct());
    env.put(GangEnv.BATCH_SHARE, String.format(Locale.ROOT, "%.6f", rank.batchShare()));
    if (spec.model != null && spec.model.globalBatchSize != null) {
      env.put(
          GangEnv.LOCAL_BATCH_SIZE,
          Long.toString(Math.max(1, Math.round(spec.model.globalBatchSize * rank.batchShare()))));
    }
    if (rank.stage() >= 0) {
      env.put(GangEnv.STAGE_INDEX, Integer.toString(rank.stage()));
      env.put(GangEnv.STAGE_COUNT, Integer.toString(stages));
      env.put(GangEnv.FIRST_LAYER, Integer.toString(rank.firstLayer()));
      env.put(GangEnv.LAST_LAYER, Integer.toString(rank.lastLayer()));
    }
    env.put(GangEnv.RESTART_COUNT, Integer.toString(restarts));
    if (spec.checkpoint != null) {
      env.put(GangEnv.CHECKPOINT_URI, spec.checkpoint.uri);
      env.put(
          GangEnv.CHECKPOINT_INTERVAL,
          Integer.toString(
              spec.checkpoint.intervalSeconds == null ? 600 : spec.checkpoint.intervalSeconds));
    }
    if (resumeFrom != null) {
      env.put(GangEnv.RESUME_FROM, resumeFrom);
      if (resumeStep != null) {
        env.put(GangEnv.RESUME_STEP, Long.toString(resumeStep));
      }
    }
    env.put(PreemptNotice.ENV, PreemptNotice.PATH);

    return OwnedObjects.mergeEnv(spec.env, env);
  }

  /** Labels on everything a job owns; the selector of its Service. */
  public static Map<String, String> labels(TrainingJob job) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(GpupoolApi.JOB_NAME_LABEL, job.getMetadata().getName());
    labels.put(GpupoolApi.JOB_KIND_LABEL, "TrainingJob");
    return labels;
  }

  /**
   * An existing pod of the same name is this gang's when it belongs to the same gang generation on
   * the same node: a retried binding (its status write lost) then converges instead of failing or
   * duplicating the gang.
   */
  public static boolean sameRank(Pod wanted, Pod existing) {
    String generation = wanted.getMetadata().getLabels().get(GENERATION_LABEL);
    return generation.equals(existing.getMetadata().getLabels().get(GENERATION_LABEL))
        && wanted.getSpec().getNodeName().equals(existing.getSpec().getNodeName());
  }
}
