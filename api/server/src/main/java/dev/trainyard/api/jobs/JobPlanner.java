package dev.trainyard.api.jobs;

import dev.trainyard.api.persistence.PoolEntity;
import dev.trainyard.api.persistence.ProjectEntity;
import dev.trainyard.api.pools.PoolRepository;
import dev.trainyard.api.projects.ProjectRepository;
import dev.trainyard.spec.DeviceMemoryFit;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.MemoryEstimate;
import dev.trainyard.spec.MemoryPlan;
import dev.trainyard.spec.ModelLayout;
import dev.trainyard.spec.ProcessLayout;
import dev.trainyard.spec.SpecDefaults;
import dev.trainyard.spec.WorstCaseCost;
import jakarta.enterprise.context.ApplicationScoped;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
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
        List<MemoryEstimate> perStage = MemoryPlan.perStage(spec, stages(spec));
        List<PlanView.PoolFit> fits = candidates(spec).stream()
                .map(p -> fit(p, spec))
                .sorted(Comparator.comparing(PlanView.PoolFit::pricePerGpuHour).thenComparing(PlanView.PoolFit::pool))
                .toList();
        PlanView.PoolFit chosen =
                fits.stream().filter(PlanView.PoolFit::fits).findFirst().orElse(null);
        BigDecimal worstCase = chosen == null ? null : WorstCaseCost.of(spec, chosen.pricePerGpuHour());
        int stages = stages(spec);
        List<String> warnings = warnings(spec, project, fits, chosen, worstCase);
        long parameters =
                ModelLayout.known(spec.model()) ? ModelLayout.of(spec.model()).parameters() : 0;
        List<Long> memory = perStage.stream().map(MemoryEstimate::totalBytes).toList();
        return new PlanView(
                spec, fits, chosen == null ? null : chosen.pool(), worstCase, parameters, stages, memory, warnings);
    }

    /**
     * Why no runner of any pool the job may run in can hold its memory plan, with the numbers; empty when one can,
     * or when the plan or the runners' memory is unknown (a model known only from its file, a pool without runners,
     * runners that do not report their devices' memory).
     */
    public Optional<String> memoryMisfit(JobSpec spec) {
        List<String> misfits = new ArrayList<>();
        for (PoolEntity pool : candidates(spec)) {
            Optional<String> misfit = memoryShortfall(pool, spec);
            if (misfit.isEmpty()) {
                return Optional.empty();
            }
            misfits.add(misfit.get());
        }
        return misfits.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", misfits));
    }

    private List<PoolEntity> candidates(JobSpec spec) {
        return spec.resources().pool() != null
                ? pools.findByName(spec.resources().pool()).stream().toList()
                : pools.byGpuType(spec.resources().gpuType());
    }

    /**
     * Why no runner of {@code pool} can hold the stages of one process, naming the first runner's numbers. Each
     * runner is judged for the most a process on it may hold ({@link ProcessLayout#worstOn}): all replicas when
     * the job is not multi-node, and an elastic job at its minimum, where fewer processes hold more replicas.
     */
    private Optional<String> memoryShortfall(PoolEntity pool, JobSpec spec) {
        int stages = stages(spec);
        if (!ModelLayout.known(spec.model())) {
            return Optional.empty();
        }
        List<PoolRepository.RunnerDevices> runners = pools.runnerDevices(pool.id);
        String first = null;
        for (PoolRepository.RunnerDevices runner : runners) {
            List<MemoryEstimate> perStage =
                    ProcessLayout.worstOn(spec, runner.devices().size()).perStage(spec, stages);
            Optional<String> shortfall = DeviceMemoryFit.shortfall(perStage, runner.devices());
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

    private static int stages(JobSpec spec) {
        Integer stages = spec.parallelism().stages();
        return stages != null
                ? stages
                : SpecDefaults.stages(
                        spec.resources().gpus(),
                        spec.parallelism().dataParallel(),
                        spec.parallelism().tensorParallelOrDefault());
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
        Optional<String> memory = memoryShortfall(pool, spec);
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
