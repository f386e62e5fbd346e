package dev.trainyard.api.jobs;

import dev.trainyard.api.jobs.spec.JobSpec;
import dev.trainyard.api.persistence.PoolEntity;
import dev.trainyard.api.persistence.ProjectEntity;
import dev.trainyard.api.pools.PoolRepository;
import dev.trainyard.api.projects.ProjectRepository;
import jakarta.enterprise.context.ApplicationScoped;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The dry run: which pools fit a spec, what it may cost at worst, how big it is. Stores nothing. */
@ApplicationScoped
public class JobPlanner {
    private static final BigDecimal SECONDS_PER_HOUR = BigDecimal.valueOf(3600);

    private final PoolRepository pools;
    private final ProjectRepository projects;

    public JobPlanner(PoolRepository pools, ProjectRepository projects) {
        this.pools = pools;
        this.projects = projects;
    }

    public PlanView plan(JobSpec spec, ProjectEntity project) {
        List<PoolEntity> candidates = spec.resources().pool() != null
                ? pools.findByName(spec.resources().pool()).stream().toList()
                : pools.byGpuType(spec.resources().gpuType());
        List<PlanView.PoolFit> fits = candidates.stream().map(p -> fit(p, spec))
                .sorted(Comparator.comparing(PlanView.PoolFit::pricePerGpuHour).thenComparing(PlanView.PoolFit::pool))
                .toList();
        PlanView.PoolFit chosen = fits.stream().filter(PlanView.PoolFit::fits).findFirst().orElse(null);
        BigDecimal worstCase = chosen == null ? null : worstCaseCost(spec, chosen.pricePerGpuHour());
        int stages = stages(spec);
        List<String> warnings = warnings(spec, project, fits, chosen, worstCase);
        return new PlanView(spec, fits, chosen == null ? null : chosen.pool(), worstCase,
                ModelSize.parameters(spec.model()), stages, ModelSize.memoryPerStage(spec, stages), warnings);
    }

    /** GPUs x price x max runtime, capped by the job's own cost limit. */
    static BigDecimal worstCaseCost(JobSpec spec, BigDecimal pricePerGpuHour) {
        BigDecimal byRuntime = pricePerGpuHour.multiply(BigDecimal.valueOf(spec.resources().gpus()))
                .multiply(BigDecimal.valueOf(spec.limits().maxRuntimeSeconds()))
                .divide(SECONDS_PER_HOUR, 6, RoundingMode.HALF_UP);
        BigDecimal cap = spec.limits().maxCostUsd();
        return cap != null && cap.compareTo(byRuntime) < 0 ? cap : byRuntime;
    }

    private static int stages(JobSpec spec) {
        Integer stages = spec.parallelism().stages();
        return stages != null ? stages : spec.resources().gpus() / spec.parallelism().dataParallel();
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
            reason = fits ? null : "its largest runner has " + c.largestRunnerGpus() + " devices and the job does not allow multiNode";
        }
        return new PlanView.PoolFit(pool.name, pool.gpuType, pool.pricePerGpuHour, c.largestRunnerGpus(),
                c.totalGpus(), c.freeGpus(), fits, reason);
    }

    private List<String> warnings(JobSpec spec, ProjectEntity project, List<PlanView.PoolFit> fits,
            PlanView.PoolFit chosen, BigDecimal worstCase) {
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
                warnings.add("Worst-case cost " + worstCase.toPlainString() + " USD exceeds the project's remaining budget "
                        + left.setScale(2, RoundingMode.HALF_UP).toPlainString() + " USD; set limits.maxCostUsd or maxRuntimeSeconds lower");
            }
        }
        return warnings;
    }
}
