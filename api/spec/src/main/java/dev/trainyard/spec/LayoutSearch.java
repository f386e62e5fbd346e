package dev.trainyard.spec;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * Which layouts (tensorParallel t, stages p, dataParallel d, ZeRO stage) of a job fit the runners of its pools, by
 * the per-device memory plan ({@link MemoryPlan#perDevice}), and which of them is the smallest. Pure: the API loads
 * the pools' runners and calls it for the dry run and the submission.
 *
 * <p>A layout is a candidate only if the spec validator accepts it (so layouts the engine cannot run are never
 * proposed); every other part of the spec (model,
 * batch, micro-batches, schedule, recompute) stays as requested.
 */
public final class LayoutSearch {

    /** One runner as the pool knows it: its devices in order, with the memory each reported. */
    public record Runner(String name, List<DeviceMemoryFit.Device> devices) {
        public Runner {
            devices = List.copyOf(devices);
        }
    }

    /** A pool the job may run in: its price and the runners that may hold it. */
    public record Pool(String name, BigDecimal pricePerGpuHour, List<Runner> runners) {
        public Pool {
            runners = List.copyOf(runners);
        }

        /** The most devices one job can get: all the pool's with multiNode, else its largest runner's. */
        int devicesForOneJob(boolean multiNode) {
            return multiNode
                    ? runners.stream().mapToInt(r -> r.devices().size()).sum()
                    : runners.stream().mapToInt(r -> r.devices().size()).max().orElse(0);
        }
    }

    /** A layout that fits, as the dry run and the refused submission propose it. */
    @Schema(
            name = "LayoutProposal",
            description = "The smallest layout of the job that fits the runners of one of its pools by the memory plan"
                    + " (fewest devices, then the cheapest): set these in parallelism and resources.gpus")
    public record Proposal(
            @Schema(required = true, description = "The pool whose runners hold it")
            String pool,

            @Schema(required = true, description = "parallelism.tensorParallel")
            int tensorParallel,

            @Schema(required = true, description = "parallelism.stages")
            int stages,

            @Schema(required = true, description = "parallelism.dataParallel")
            int dataParallel,

            @Schema(required = true, description = "parallelism.zero")
            int zero,

            @Schema(required = true, description = "resources.gpus: tensorParallel x stages x dataParallel")
            int gpus,

            @Schema(
                    required = true,
                    description = "The plan's peak bytes on the fullest device of a replica: weights, gradients,"
                            + " AdamW state and in-flight activations")
            long perDeviceBytes,

            @Schema(
                    required = true,
                    description = "resources.multiNode: true where the layout spreads replicas over runners or cuts"
                            + " each replica's pipeline between runners, its stages held by no single runner")
            boolean multiNode) {

        /** The spec with this layout, every device granted from the start. */
        public JobSpec applyTo(JobSpec spec) {
            JobSpec layout = withLayout(spec, tensorParallel, stages, dataParallel, zero);
            return multiNode ? acrossRunners(layout) : layout;
        }

        /** Whether the layout cuts a pipeline between runners rather than keeping each replica on one. */
        boolean cut() {
            return multiNode && stages > 1;
        }
    }

    /**
     * The highest ZeRO stage proposed: 3, which plans a rank's share of the parameters and gradients plus one block
     * whole (see {@link MemoryPlan}); the ordering prefers a lower stage where one fits, as 3 gathers every block
     * twice a step.
     */
    private static final int PROPOSED_ZERO_MAX = 3;

    private LayoutSearch() {}

    /**
     * The smallest layout other than the requested one that fits a pool: fewest devices; then the lowest price per
     * hour; then, as cheaper to run, no tensor parallelism (an all-reduce per sublayer), the lowest ZeRO stage (fewer
     * collectives) and the least memory per device. Empty when none fits, or the model's layout is unknown.
     */
    public static Optional<Proposal> smallest(JobSpec spec, List<Pool> pools) {
        if (!ModelLayout.known(spec.model())) {
            return Optional.empty();
        }
        boolean multiNode = spec.resources().multiNode();
        List<Proposal> fitting = new ArrayList<>();
        for (Pool pool : pools) {
            int devices = Math.min(pool.devicesForOneJob(multiNode), JobSpecValidator.MAX_GPUS);
            for (JobSpec candidate : candidates(spec, devices)) {
                if (sameLayout(candidate, spec)) {
                    continue;
                }
                if (fits(candidate, pool)) {
                    fitting.add(proposal(pool, candidate));
                } else if (multiNode) {
                    cutAcrossRunners(candidate)
                            .filter(cut -> !sameLayout(cut, spec) && fits(cut, pool))
                            .ifPresent(cut -> fitting.add(proposal(pool, cut)));
                }
            }
        }
        // a pipeline cut between runners sends every micro-batch's activations over the network: where a layout of
        // as many devices keeps each replica on one runner, that one is proposed
        Comparator<Proposal> order = Comparator.comparingInt(Proposal::gpus)
                .thenComparing(p -> price(p, pools))
                .thenComparing(Proposal::cut)
                .thenComparingInt(Proposal::tensorParallel)
                .thenComparingInt(Proposal::zero)
                .thenComparingLong(Proposal::perDeviceBytes)
                .thenComparingInt(Proposal::stages)
                .thenComparing(Proposal::pool);
        return fitting.stream().min(order);
    }

    /**
     * Every layout of up to {@code maxDevices} devices that the validator accepts for this spec, normalized: t
     * dividing what the model splits, p up to the block count, d any, ZeRO 0-3 (only 0 without data parallelism,
     * where the others change nothing).
     */
    static List<JobSpec> candidates(JobSpec spec, int maxDevices) {
        List<JobSpec> out = new ArrayList<>();
        int blocks = ModelLayout.of(spec.model()).blocks().size();
        for (int t = 1; t <= Math.min(maxDevices, JobSpecValidator.MAX_TENSOR_PARALLEL); t++) {
            if (!splitsTheModel(spec, t)) {
                continue;
            }
            for (int d = 1; t * d <= maxDevices; d++) {
                for (int p = 1; p <= blocks && t * p * d <= maxDevices; p++) {
                    for (int zero = 0; zero <= (d > 1 ? PROPOSED_ZERO_MAX : 0); zero++) {
                        try {
                            out.add(JobSpecValidator.normalize(withLayout(spec, t, p, d, zero)));
                        } catch (InvalidFieldsException refused) {
                            // a layout the spec does not allow (t not dividing the heads, a batch d does not divide)
                        }
                    }
                }
            }
        }
        return out;
    }

    /**
     * Whether the validator accepts {@code t} for this model at all (heads, MLP width and vocabulary divisible by it,
     * a gpt model): checked once per t on one stage and one replica, so that a large pool does not validate every
     * stage and replica count of a t that can never work (a search over 512 devices took 2.5 s without it).
     */
    private static boolean splitsTheModel(JobSpec spec, int t) {
        try {
            JobSpecValidator.normalize(withLayout(spec, t, 1, 1, 0));
            return true;
        } catch (InvalidFieldsException refused) {
            return refused.violations().stream().noneMatch(v -> v.field().equals("parallelism.tensorParallel"));
        }
    }

    /**
     * Whether the pool's runners hold the layout's d replicas by the memory plan: each runner holds as many whole
     * replicas as its devices and their memory allow (cpu devices share the host's memory, so replicas on them add
     * up); without multiNode one runner must hold them all. A runner that does not report a device's memory is
     * never judged too small, as at submission.
     */
    public static boolean fits(JobSpec layout, Pool pool) {
        if (PipelineCut.allowed(layout) && stagesFitAcross(layout, pool)) {
            return true;
        }
        List<MemoryEstimate> replica = MemoryPlan.perDevice(layout);
        int needed = layout.parallelism().dataParallel();
        int held = 0;
        for (Runner runner : pool.runners()) {
            int here = replicasHeld(replica, runner.devices());
            held = layout.resources().multiNode() ? held + here : Math.max(held, here);
        }
        return held >= needed;
    }

    /**
     * Whether a pipeline the scheduler may cut between runners ({@link PipelineCut}) fits the pool as the submission
     * judges it: the pool has the devices of its minimum (an elastic job runs on as few as minGpus' whole cut
     * replicas), and each stage's t devices (its tensor-parallel group) fit some runner. The scheduler places
     * it stage by stage within the runners' memory, and says in {@code pending} when it cannot.
     */
    private static boolean stagesFitAcross(JobSpec layout, Pool pool) {
        if (pool.devicesForOneJob(true) < layout.resources().minGpus()) {
            return false;
        }
        for (MemoryEstimate stage : PipelineCut.perStage(layout)) {
            List<MemoryEstimate> alone = Collections.nCopies(PipelineCut.tensorParallel(layout), stage);
            // a runner that reported fewer devices than the group never holds it (the fit check alone would not say
            // so); one that reported none is never judged too small
            if (pool.runners().stream()
                    .noneMatch(r -> (r.devices().isEmpty() || r.devices().size() >= alone.size())
                            && DeviceMemoryFit.shortfall(alone, r.devices()).isEmpty())) {
                return false;
            }
        }
        return true;
    }

    /**
     * The candidate with its single replica's pipeline cut between runners, where the validator and {@link
     * PipelineCut} allow it (a multi-node job of one replica, each stage's tensor-parallel group on one runner); empty
     * otherwise.
     */
    private static Optional<JobSpec> cutAcrossRunners(JobSpec candidate) {
        ParallelismSpec p = candidate.parallelism();
        if (p.dataParallel() != 1 || p.stages() < 2) {
            return Optional.empty();
        }
        try {
            JobSpec cut = JobSpecValidator.normalize(acrossRunners(candidate));
            return PipelineCut.allowed(cut) ? Optional.of(cut) : Optional.empty();
        } catch (InvalidFieldsException refused) {
            return Optional.empty();
        }
    }

    /** The spec with {@code resources.multiNode} set, nothing else changed. */
    static JobSpec acrossRunners(JobSpec spec) {
        Resources r = spec.resources();
        return new JobSpec(
                spec.name(),
                spec.project(),
                spec.priority(),
                new Resources(r.pool(), r.gpuType(), r.gpus(), r.minGpus(), true),
                spec.limits(),
                spec.model(),
                spec.data(),
                spec.training(),
                spec.parallelism(),
                spec.checkpoint());
    }

    /** How many replicas of {@code replica} (one estimate per device) fit on {@code devices} side by side. */
    static int replicasHeld(List<MemoryEstimate> replica, List<DeviceMemoryFit.Device> devices) {
        if (replica.isEmpty()) {
            return 0;
        }
        int k = 0;
        while ((k + 1) * replica.size() <= devices.size()
                && DeviceMemoryFit.shortfall(
                                Collections.nCopies(k + 1, replica).stream()
                                        .flatMap(List::stream)
                                        .toList(),
                                devices)
                        .isEmpty()) {
            k++;
        }
        return k;
    }

    /** The largest per-device figure of one replica of the spec's layout: what the fullest device must hold. */
    public static long perDeviceBytes(JobSpec spec) {
        return MemoryPlan.perDevice(spec).stream()
                .mapToLong(MemoryEstimate::totalBytes)
                .max()
                .orElse(0);
    }

    /** The most memory one device of the pools reports (the host's for cpu devices), or 0 when none says. */
    public static long largestDeviceBytes(List<Pool> pools) {
        return pools.stream()
                .flatMap(p -> p.runners().stream())
                .flatMap(r -> r.devices().stream())
                .filter(d -> d.memoryBytes() != null)
                .mapToLong(DeviceMemoryFit.Device::memoryBytes)
                .max()
                .orElse(0);
    }

    private static Proposal proposal(Pool pool, JobSpec layout) {
        ParallelismSpec p = layout.parallelism();
        return new Proposal(
                pool.name(),
                p.tensorParallelOrDefault(),
                p.stages(),
                p.dataParallel(),
                p.zeroStage(),
                layout.resources().gpus(),
                perDeviceBytes(layout),
                Boolean.TRUE.equals(layout.resources().multiNode()));
    }

    private static BigDecimal price(Proposal proposal, List<Pool> pools) {
        return pools.stream()
                .filter(p -> p.name().equals(proposal.pool()))
                .findFirst()
                .map(p -> p.pricePerGpuHour().multiply(BigDecimal.valueOf(proposal.gpus())))
                .orElse(BigDecimal.ZERO);
    }

    private static boolean sameLayout(JobSpec candidate, JobSpec requested) {
        ParallelismSpec c = candidate.parallelism();
        ParallelismSpec r = requested.parallelism();
        return c.tensorParallelOrDefault() == r.tensorParallelOrDefault()
                && c.stages() == MemoryPlan.stages(requested)
                && c.dataParallel().equals(r.dataParallel())
                && c.zeroStage() == r.zeroStage()
                && candidate.resources().gpus().equals(requested.resources().gpus())
                && Boolean.TRUE.equals(candidate.resources().multiNode())
                        == Boolean.TRUE.equals(requested.resources().multiNode());
    }

    private static JobSpec withLayout(JobSpec spec, int t, int p, int d, int zero) {
        Resources r = spec.resources();
        ParallelismSpec given = spec.parallelism();
        int gpus = t * p * d;
        // multiNode spreads only replicas over runners (the validator refuses it without data parallelism)
        boolean multiNode = Boolean.TRUE.equals(r.multiNode()) && d > 1;
        return new JobSpec(
                spec.name(),
                spec.project(),
                spec.priority(),
                new Resources(r.pool(), r.gpuType(), gpus, gpus, multiNode),
                spec.limits(),
                spec.model(),
                spec.data(),
                spec.training(),
                new ParallelismSpec(
                        p, given.microBatches(), given.schedule(), given.recompute(), d, given.balance(), t, zero),
                spec.checkpoint());
    }
}
