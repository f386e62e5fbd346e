package dev.trainyard.api.jobs;

import dev.trainyard.api.error.ApiException;
import dev.trainyard.api.persistence.PoolEntity;
import dev.trainyard.api.persistence.ProjectEntity;
import dev.trainyard.api.pools.PoolRepository;
import dev.trainyard.api.projects.ProjectRepository;
import dev.trainyard.spec.DeviceMemoryFit;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.LayoutSearch;
import dev.trainyard.spec.MemoryEstimate;
import dev.trainyard.spec.MemoryPlan;
import dev.trainyard.spec.ModelLayout;
import dev.trainyard.spec.PipelineCut;
import dev.trainyard.spec.ProcessLayout;
import dev.trainyard.spec.WorstCaseCost;
import jakarta.enterprise.context.ApplicationScoped;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The dry run: which pools fit a spec, what it may cost at worst, how big it is. Stores nothing. */
@ApplicationScoped
public class JobPlanner {
    private final PoolRepository pools;
    private final ProjectRepository projects;

    public JobPlanner(PoolRepository pools, ProjectRepository projects) {
        this.pools = pools;
        this.projects = projects;
    }

    public PlanView plan(JobSpec spec, ProjectEntity project) {
        Optional<MemoryMisfit> misfit = memoryMisfit(spec);
        if (misfit.isPresent() && misfit.get().proposal() == null) {
            // Nothing to propose: the dry run refuses as the submission would, with the same figures.
            throw misfit.get().refusal();
        }
        List<PlanView.PoolFit> fits = candidates(spec).stream()
                .map(p -> fit(p, spec))
                .sorted(Comparator.comparing(PlanView.PoolFit::pricePerGpuHour).thenComparing(PlanView.PoolFit::pool))
                .toList();
        PlanView.PoolFit chosen =
                fits.stream().filter(PlanView.PoolFit::fits).findFirst().orElse(null);
        BigDecimal worstCase = chosen == null ? null : WorstCaseCost.of(spec, chosen.pricePerGpuHour());
        int stages = MemoryPlan.stages(spec);
        List<String> warnings = warnings(spec, project, fits, chosen, worstCase);
        misfit.ifPresent(m -> warnings.add(m.reason()));
        long parameters =
                ModelLayout.known(spec.model()) ? ModelLayout.of(spec.model()).parameters() : 0;
        List<Long> memory = MemoryPlan.perStage(spec, stages).stream()
                .map(MemoryEstimate::totalBytes)
                .toList();
        long perDeviceBytes = LayoutSearch.perDeviceBytes(spec);
        return new PlanView(
                spec,
                fits,
                chosen == null ? null : chosen.pool(),
                worstCase,
                parameters,
                stages,
                memory,
                perDeviceBytes,
                misfit.map(MemoryMisfit::proposal).orElse(null),
                warnings);
    }

    /**
     * Why the job's memory plan fits no runner of any pool it may run in, and the smallest layout that would fit one
     * (null when none does).
     */
    public record MemoryMisfit(String reason, LayoutSearch.Proposal proposal) {

        /** The 400 answer: the field to change is the layout when another fits, else the model. */
        public ApiException.InvalidInput refusal() {
            return ApiException.InvalidInput.of(proposal == null ? "model" : "parallelism", reason, proposal);
        }
    }

    /**
     * Why no runner of any pool the job may run in can hold its memory plan, with the numbers, and the smallest
     * layout that would fit; empty when one can, or when the plan or the runners' memory is unknown (a model known
     * only from its file, a pool without runners, runners that do not report their devices' memory).
     */
    public Optional<MemoryMisfit> memoryMisfit(JobSpec spec) {
        List<MemoryEstimate> perDevice = MemoryPlan.perDevice(spec);
        if (perDevice.isEmpty()) {
            return Optional.empty();
        }
        List<String> misfits = new ArrayList<>();
        List<LayoutSearch.Pool> searched = new ArrayList<>();
        for (PoolEntity pool : candidates(spec)) {
            List<PoolRepository.RunnerDevices> runners = pools.runnerDevices(pool.id);
            Optional<String> misfit = memoryShortfall(pool, runners, spec);
            if (misfit.isEmpty()) {
                return Optional.empty();
            }
            misfits.add(misfit.get());
            searched.add(new LayoutSearch.Pool(
                    pool.name,
                    pool.pricePerGpuHour,
                    runners.stream()
                            .map(r -> new LayoutSearch.Runner(r.runner(), r.devices()))
                            .toList()));
        }
        if (misfits.isEmpty()) {
            return Optional.empty();
        }
        LayoutSearch.Proposal proposal = LayoutSearch.smallest(spec, searched).orElse(null);
        String figures = String.format(
                Locale.ROOT,
                "; its fullest device needs %s, the largest device there has %s",
                DeviceMemoryFit.gib(fullestDeviceBytes(spec, searched)),
                DeviceMemoryFit.gib(LayoutSearch.largestDeviceBytes(searched)));
        String advice = proposal == null
                ? ". No layout of tensorParallel, stages, dataParallel and zero that the spec allows fits either:"
                        + " choose a smaller model or batch, more micro-batches or parallelism.recompute"
                : String.format(
                        Locale.ROOT,
                        ". This layout fits pool '%s': parallelism.tensorParallel %d, stages %d, dataParallel %d,"
                                + " zero %d, resources.gpus %d%s (%s on its fullest device)",
                        proposal.pool(),
                        proposal.tensorParallel(),
                        proposal.stages(),
                        proposal.dataParallel(),
                        proposal.zero(),
                        proposal.gpus(),
                        proposal.multiNode() ? ", multiNode true" : "",
                        DeviceMemoryFit.gib(proposal.perDeviceBytes()));
        return Optional.of(new MemoryMisfit(String.join("; ", misfits) + figures + advice, proposal));
    }

    /**
     * Why one data-parallel replica of a multi-node job cannot sit on any runner of the pools it may run in: a replica
     * (tensorParallel x stages devices) is never cut between runners unless its pipeline may be cut between stages,
     * each stage's tensor-parallel group on one runner, elastic only by whole replicas, at any ZeRO stage ({@link
     * PipelineCut}). Empty
     * when it can, or when a pool has no active runner to judge by.
     */
    public Optional<ApiException.InvalidInput> replicaMisfit(JobSpec spec) {
        int replica = ProcessLayout.replicaDevices(spec);
        if (!Boolean.TRUE.equals(spec.resources().multiNode()) || PipelineCut.allowed(spec) || replica <= 1) {
            return Optional.empty();
        }
        int largest = 0;
        for (PoolEntity pool : candidates(spec)) {
            PoolRepository.Capacity c = pools.capacity(pool.id);
            if (c.runners() == 0) {
                return Optional.empty();
            }
            largest = Math.max(largest, c.largestRunnerGpus());
        }
        if (largest == 0 || largest >= replica) {
            return Optional.empty();
        }
        return Optional.of(ApiException.InvalidInput.of(
                "parallelism",
                "one data-parallel replica needs tensorParallel x stages = " + replica
                        + " devices on one runner, and the largest active runner the job may use has " + largest
                        + ": a replica is cut between runners only between pipeline stages (at least 2), with"
                        + " resources.minGpus a whole number of replicas' devices"));
    }

    /**
     * What the fullest device needs where the job would have the most room, on the runner with the most devices:
     * as the runners are judged, for the most a process there may hold ({@link ProcessLayout#worstOn}).
     */
    private static long fullestDeviceBytes(JobSpec spec, List<LayoutSearch.Pool> searched) {
        int devices = searched.stream()
                .flatMap(p -> p.runners().stream())
                .mapToInt(r -> r.devices().size())
                .max()
                .orElse(1);
        return ProcessLayout.worstOn(spec, devices).perDevice(spec).stream()
                .mapToLong(MemoryEstimate::totalBytes)
                .max()
                .orElse(0);
    }

    private List<PoolEntity> candidates(JobSpec spec) {
        return spec.resources().pool() != null
                ? pools.findByName(spec.resources().pool()).stream().toList()
                : pools.byGpuType(spec.resources().gpuType());
    }

    /**
     * Why no runner of {@code pool} can hold the devices of one process, naming the first runner's numbers. Each
     * runner is judged for the most a process on it may hold ({@link ProcessLayout#worstOn}): all replicas when
     * the job is not multi-node, and an elastic job at its minimum, where fewer processes hold more replicas.
     */
    private static Optional<String> memoryShortfall(
            PoolEntity pool, List<PoolRepository.RunnerDevices> runners, JobSpec spec) {
        if (!ModelLayout.known(spec.model())) {
            return Optional.empty();
        }
        if (PipelineCut.allowed(spec)) {
            return stageShortfall(pool, runners, spec);
        }
        String first = null;
        for (PoolRepository.RunnerDevices runner : runners) {
            List<MemoryEstimate> perDevice =
                    ProcessLayout.worstOn(spec, runner.devices().size()).perDevice(spec);
            Optional<String> shortfall = DeviceMemoryFit.shortfall(perDevice, runner.devices());
            if (shortfall.isEmpty()) {
                return Optional.empty();
            }
            if (first == null) {
                first = "on runner " + runner.runner() + " " + shortfall.get();
            }
        }
        return first == null
                ? Optional.empty()
                : Optional.of("the memory plan fits no runner of pool '" + pool.name + "': " + first);
    }

    /**
     * Why a pipeline the scheduler may cut between runners ({@link PipelineCut}) cannot run in {@code pool}: some
     * stage's tensor-parallel group (t devices, each holding its share) fits no runner on its own, naming the first
     * runner's numbers for the first such stage.
     */
    private static Optional<String> stageShortfall(
            PoolEntity pool, List<PoolRepository.RunnerDevices> runners, JobSpec spec) {
        List<MemoryEstimate> stages = PipelineCut.perStage(spec);
        for (int stage = 0; stage < stages.size(); stage++) {
            List<MemoryEstimate> alone = Collections.nCopies(PipelineCut.tensorParallel(spec), stages.get(stage));
            Optional<String> first = Optional.empty();
            for (PoolRepository.RunnerDevices runner : runners) {
                // a runner that reported no devices is never judged too small
                boolean tooFew = !runner.devices().isEmpty() && runner.devices().size() < alone.size();
                Optional<String> shortfall = tooFew
                        ? Optional.of(
                                "has " + runner.devices().size() + " devices, fewer than the stage's " + alone.size())
                        : DeviceMemoryFit.shortfall(alone, runner.devices());
                if (shortfall.isEmpty()) {
                    first = Optional.empty();
                    break;
                }
                if (first.isEmpty()) {
                    first = Optional.of("on runner " + runner.runner() + " " + shortfall.get());
                }
            }
            if (first.isPresent()) {
                return Optional.of("the memory plan's pipeline stage " + stage + " fits no runner of pool '" + pool.name
                        + "': " + first.get());
            }
        }
        return Optional.empty();
    }

    private PlanView.PoolFit fit(PoolEntity pool, JobSpec spec) {
        PoolRepository.Capacity c = pools.capacity(pool.id);
        int need = spec.resources().minGpus();
        boolean fits;
        String reason = null;
        if (c.runners() == 0) {
            fits = false;
            reason = "no active runner in this pool";
        } else if (spec.resources().multiNode()) {
            fits = c.totalGpus() >= need;
            reason = fits ? null : "the pool has " + c.totalGpus() + " devices in all";
        } else {
            fits = c.largestRunnerGpus() >= need;
            reason = fits
                    ? null
                    : "its largest runner has " + c.largestRunnerGpus()
                            + " devices and the job does not allow multiNode";
        }
        Optional<String> memory = memoryShortfall(pool, pools.runnerDevices(pool.id), spec);
        if (fits && memory.isPresent()) {
            fits = false;
            reason = memory.get();
        }
        return new PlanView.PoolFit(
                pool.name,
                pool.gpuType,
                pool.pricePerGpuHour,
                c.largestRunnerGpus(),
                c.totalGpus(),
                c.freeGpus(),
                fits,
                reason);
    }

    private List<String> warnings(
            JobSpec spec,
            ProjectEntity project,
            List<PlanView.PoolFit> fits,
            PlanView.PoolFit chosen,
            BigDecimal worstCase) {
        List<String> warnings = new ArrayList<>();
        if (fits.isEmpty()) {
            warnings.add("No pool matches; the job would wait with reason NO_POOL_FITS");
        } else if (chosen == null) {
            warnings.add("No matching pool can hold the job now; it would wait with reason NO_POOL_FITS");
        } else if (chosen.freeGpus() < spec.resources().minGpus()) {
            warnings.add("Not enough free devices right now; the job would queue (WAITING_FOR_GPUS)");
        }
        if (project.budgetUsd != null && worstCase != null) {
            BigDecimal left = project.budgetUsd.subtract(projects.spent(project.id));
            if (worstCase.compareTo(left) > 0) {
                warnings.add(
                        "Worst-case cost " + worstCase.toPlainString() + " USD exceeds the project's remaining budget "
                                + left.setScale(2, RoundingMode.HALF_UP).toPlainString()
                                + " USD; set limits.maxCostUsd or maxRuntimeSeconds lower");
            }
        }
        return warnings;
    }
}
