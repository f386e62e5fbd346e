package dev.trainyard.api.jobs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.api.lifecycle.JobState;
import dev.trainyard.api.persistence.JobEntity;
import dev.trainyard.api.persistence.PoolEntity;
import dev.trainyard.api.persistence.ProjectEntity;
import dev.trainyard.api.pools.PoolRepository;
import dev.trainyard.api.projects.ProjectRepository;
import dev.trainyard.spec.JobSpec;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Map;

/** Turns job rows into what the API shows, with project and pool names. */
@ApplicationScoped
public class JobViews {
    private final ProjectRepository projects;
    private final PoolRepository pools;
    private final ObjectMapper json;

    public JobViews(ProjectRepository projects, PoolRepository pools, ObjectMapper json) {
        this.projects = projects;
        this.pools = pools;
        this.json = json;
    }

    public JobView view(JobEntity job) {
        return views(List.of(job)).get(0);
    }

    /** A job whose project and pool the caller has loaded already: no lookup of every project and pool. */
    public JobView view(JobEntity job, ProjectEntity project, PoolEntity pool) {
        return view(job, Map.of(project.id, project.name), pool == null ? Map.of() : Map.of(pool.id, pool.name));
    }

    public List<JobView> views(List<JobEntity> jobs) {
        if (jobs.isEmpty()) {
            return List.of();
        }
        Map<Long, String> projectNames = projects.namesById();
        Map<Long, String> poolNames = pools.namesById();
        return jobs.stream().map(j -> view(j, projectNames, poolNames)).toList();
    }

    private JobView view(JobEntity j, Map<Long, String> projectNames, Map<Long, String> poolNames) {
        JobView.Pending pending = JobState.ofWord(j.state).isWaiting() && j.pendingReason != null
                ? new JobView.Pending(j.pendingReason, j.pendingMessage, j.queuePosition, j.estimatedStartAt)
                : null;
        return new JobView(
                j.id,
                j.name,
                projectNames.get(j.projectId),
                j.state,
                j.stateReason,
                DivergenceView.of(j.divergenceStep, j.divergenceLoss),
                j.priority.toLowerCase(java.util.Locale.ROOT),
                j.poolId == null ? null : poolNames.get(j.poolId),
                j.gpuType,
                j.gpus,
                j.minGpus,
                pending,
                j.cancelRequested,
                new JobView.Progress(j.lastStep, j.totalSteps),
                new JobView.Cost(j.accruedCostUsd, j.maxCostUsd),
                j.restarts,
                j.maxRestarts,
                j.submittedAt,
                j.startedAt,
                j.finishedAt,
                spec(j.spec));
    }

    private JobSpec spec(String stored) {
        try {
            return json.readValue(stored, JobSpec.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored spec does not read back", e);
        }
    }
}
