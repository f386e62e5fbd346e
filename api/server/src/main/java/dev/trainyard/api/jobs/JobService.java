package dev.trainyard.api.jobs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.api.auth.Caller;
import dev.trainyard.api.auth.Role;
import dev.trainyard.api.error.ApiException;
import dev.trainyard.api.error.ProblemType;
import dev.trainyard.api.lifecycle.JobState;
import dev.trainyard.api.lifecycle.LifecycleService;
import dev.trainyard.api.persistence.JobEntity;
import dev.trainyard.api.persistence.PoolEntity;
import dev.trainyard.api.persistence.ProjectEntity;
import dev.trainyard.api.pools.PoolRepository;
import dev.trainyard.api.projects.ProjectRepository;
import dev.trainyard.spec.JobSpec;
import dev.trainyard.spec.JobSpecValidator;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/** The rules of jobs: submission with idempotency, visibility by project, cancellation by state. */
@ApplicationScoped
public class JobService {
    static final int MAX_IDEMPOTENCY_KEY = 200;

    private final JobRepository jobs;
    private final ProjectRepository projects;
    private final PoolRepository pools;
    private final JobViews views;
    private final JobPlanner planner;
    private final DataUriCheck dataUris;
    private final JobSignals signals;
    private final LifecycleService lifecycle;
    private final ObjectMapper json;
    private final InstantSource clock;

    public JobService(
            JobRepository jobs,
            ProjectRepository projects,
            PoolRepository pools,
            JobViews views,
            JobPlanner planner,
            DataUriCheck dataUris,
            JobSignals signals,
            LifecycleService lifecycle,
            ObjectMapper json,
            InstantSource clock) {
        this.jobs = jobs;
        this.projects = projects;
        this.pools = pools;
        this.views = views;
        this.planner = planner;
        this.dataUris = dataUris;
        this.signals = signals;
        this.lifecycle = lifecycle;
        this.json = json;
        this.clock = clock;
    }

    /** The outcome of a submission: the job, and whether it was created now or replayed for the same key. */
    public record Submitted(JobView job, boolean created) {}

    @Transactional
    public Submitted submit(Caller caller, JobSpec raw, String idempotencyKey) {
        requirePerson(caller);
        JobSpec spec = JobSpecValidator.normalize(raw);
        ProjectEntity project = resolveProject(caller, spec.project());
        spec = withProject(spec, project.name);
        PoolEntity pool = resolvePool(spec);
        String specJson = write(spec);
        if (idempotencyKey != null) {
            checkKey(idempotencyKey);
            jobs.lockIdempotencyKey(project.id, idempotencyKey);
            var existing = jobs.findByIdempotencyKey(project.id, idempotencyKey);
            if (existing.isPresent()) {
                return replay(existing.get(), specJson);
            }
        }
        dataUris.requireReadable(spec, pool);
        planner.memoryMisfit(spec).ifPresent(misfit -> {
            throw misfit.refusal();
        });
        planner.replicaMisfit(spec).ifPresent(refusal -> {
            throw refusal;
        });
        JobEntity job = newJob(caller, spec, specJson, project, pool, idempotencyKey);
        lifecycle.submit(job, "Submitted by " + caller.tokenName());
        signals.jobsChanged();
        return new Submitted(views.view(job, project, pool), true);
    }

    @Transactional
    public PlanView plan(Caller caller, JobSpec raw) {
        requirePerson(caller);
        JobSpec spec = JobSpecValidator.normalize(raw);
        ProjectEntity project = resolveProject(caller, spec.project());
        spec = withProject(spec, project.name);
        dataUris.requireReadable(spec, resolvePool(spec));
        return planner.plan(spec, project);
    }

    @Transactional
    public JobView get(Caller caller, long id) {
        return views.view(visible(caller, id));
    }

    @Transactional
    public JobPage list(
            Caller caller,
            String state,
            String projectName,
            String poolName,
            String name,
            String cursor,
            Integer limit) {
        requirePerson(caller);
        int size = limit == null ? 50 : limit;
        if (size < 1 || size > 200) {
            throw new ApiException.InvalidInput(ProblemType.BAD_PARAMETER, "limit must be between 1 and 200");
        }
        JobState stateFilter = parseState(state);
        Long projectId = projectFilter(caller, projectName);
        Long poolId = poolName == null
                ? null
                : pools.findByName(poolName)
                        .map(p -> p.id)
                        .orElseThrow(() -> new ApiException.NotFound("pool", poolName));
        if (name != null && name.length() > 100) {
            throw new ApiException.InvalidInput(ProblemType.BAD_PARAMETER, "name filter is too long");
        }
        List<JobEntity> page =
                jobs.list(new JobFilter(stateFilter, projectId, poolId, name), Cursor.decode(cursor), size + 1);
        boolean more = page.size() > size;
        List<JobEntity> items = more ? page.subList(0, size) : page;
        String next = more ? Cursor.encode(items.get(items.size() - 1).id) : null;
        return new JobPage(views.views(items), next);
    }

    @Transactional
    public JobView cancel(Caller caller, long id) {
        JobEntity job = visible(caller, id);
        JobState state = JobState.ofWord(job.state);
        Instant now = clock.instant();
        if (state.isTerminal()) {
            throw new ApiException.Conflict(
                    ProblemType.INVALID_STATE,
                    "Job " + id + " has already ended (" + state + ") and cannot be cancelled");
        }
        boolean changed;
        if (state.isWaiting()) {
            changed = lifecycle.cancelWaiting(job, "Cancelled by " + caller.tokenName(), now);
        } else {
            changed = job.cancelRequested || lifecycle.requestCancel(job, now);
        }
        if (!changed) {
            throw new ApiException.Conflict(
                    ProblemType.INVALID_STATE, "Job " + id + " changed while it was being cancelled; try again");
        }
        // a waiting job frees its place in the queue; a running one's runners must learn of the stop
        signals.changed(state.isWaiting() ? JobsChanged.queue() : JobsChanged.everything());
        return views.view(jobs.reload(id));
    }

    @Transactional
    public List<JobEventView> events(Caller caller, long id) {
        visible(caller, id);
        return jobs.events(id).stream()
                .map(e -> new JobEventView(
                        e.id,
                        e.jobId,
                        e.at,
                        e.fromState,
                        e.toState,
                        e.reason,
                        e.message,
                        e.attemptId,
                        DivergenceView.of(e.divergenceStep, e.divergenceLoss)))
                .toList();
    }

    /** The job if the caller may see it; a job of another project is "not found". */
    public JobEntity visible(Caller caller, long id) {
        requirePerson(caller);
        return jobs.find(id)
                .filter(j -> caller.canAccessProject(j.projectId))
                .orElseThrow(() -> new ApiException.NotFound("job", id));
    }

    private static void requirePerson(Caller caller) {
        if (caller.role() == Role.RUNNER) {
            throw new ApiException.Forbidden("Runner tokens may only call runner endpoints");
        }
    }

    private ProjectEntity resolveProject(Caller caller, String name) {
        if (name == null) {
            if (caller.projectId() == null) {
                throw ApiException.InvalidInput.of("project", "is required for admin tokens");
            }
            return projects.find(caller.projectId()).orElseThrow();
        }
        ProjectEntity project = projects.findByName(name)
                .orElseThrow(() -> ApiException.InvalidInput.of("project", "no project named '" + name + "'"));
        if (!caller.canAccessProject(project.id)) {
            throw new ApiException.Forbidden("This token may only submit to its own project");
        }
        return project;
    }

    private PoolEntity resolvePool(JobSpec spec) {
        String name = spec.resources().pool();
        if (name == null) {
            return null;
        }
        PoolEntity pool = pools.findByName(name)
                .orElseThrow(() -> ApiException.InvalidInput.of("resources.pool", "no pool named '" + name + "'"));
        String type = spec.resources().gpuType();
        if (type != null && !type.equals(pool.gpuType)) {
            throw ApiException.InvalidInput.of(
                    "resources.gpuType", "pool '" + name + "' has GPU type '" + pool.gpuType + "', not '" + type + "'");
        }
        return pool;
    }

    private Long projectFilter(Caller caller, String projectName) {
        if (projectName != null) {
            return projects.findByName(projectName)
                    .filter(p -> caller.canAccessProject(p.id))
                    .map(p -> p.id)
                    .orElseThrow(() -> new ApiException.NotFound("project", projectName));
        }
        return caller.isAdmin() ? null : caller.projectId();
    }

    private static JobState parseState(String state) {
        if (state == null) {
            return null;
        }
        try {
            return JobState.valueOf(state.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ApiException.InvalidInput(
                    ProblemType.BAD_PARAMETER,
                    "state must be one of " + java.util.Arrays.toString(JobState.values()) + ", was '" + state + "'");
        }
    }

    private static void checkKey(String key) {
        if (key.isBlank() || key.length() > MAX_IDEMPOTENCY_KEY) {
            throw new ApiException.InvalidInput(
                    ProblemType.BAD_PARAMETER, "Idempotency-Key must be 1-" + MAX_IDEMPOTENCY_KEY + " characters");
        }
    }

    private Submitted replay(JobEntity existing, String specJson) {
        if (!Objects.equals(read(existing.spec), read(specJson))) {
            throw new ApiException.InvalidInput(
                    ProblemType.IDEMPOTENCY_MISMATCH,
                    "This Idempotency-Key was used for job " + existing.id + " with a different spec");
        }
        return new Submitted(views.view(existing), false);
    }

    private JobEntity newJob(
            Caller caller, JobSpec spec, String specJson, ProjectEntity project, PoolEntity pool, String key) {
        JobEntity job = new JobEntity();
        job.projectId = project.id;
        job.name = spec.name();
        job.spec = specJson;
        job.priority = spec.priority().toUpperCase(Locale.ROOT);
        job.poolId = pool == null ? null : pool.id;
        job.gpuType = pool == null ? spec.resources().gpuType() : pool.gpuType;
        job.gpus = spec.resources().gpus();
        job.minGpus = spec.resources().minGpus();
        job.multiNode = spec.resources().multiNode();
        job.maxCostUsd = spec.limits().maxCostUsd();
        job.maxRuntimeSeconds = spec.limits().maxRuntimeSeconds();
        job.maxRestarts = spec.limits().maxRestarts();
        job.totalSteps = spec.training().steps();
        job.pendingReason = "WAITING_FOR_SCHEDULER";
        job.pendingMessage = "Submitted; the scheduler has not looked at it yet";
        job.idempotencyKey = key;
        job.submittedBy = caller.tokenId();
        job.submittedAt = clock.instant();
        return job;
    }

    private static JobSpec withProject(JobSpec s, String project) {
        return new JobSpec(
                s.name(),
                project,
                s.priority(),
                s.resources(),
                s.limits(),
                s.model(),
                s.data(),
                s.training(),
                s.parallelism(),
                s.checkpoint());
    }

    private String write(JobSpec spec) {
        try {
            return json.writeValueAsString(spec);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a validated spec always serializes", e);
        }
    }

    /** A stored spec as a tree without null fields: rows written before answers omitted nulls still compare. */
    private Map<?, ?> read(String specJson) {
        try {
            return json.convertValue(withoutNulls(json.readTree(specJson)), Map.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored specs are valid JSON", e);
        }
    }

    private static com.fasterxml.jackson.databind.JsonNode withoutNulls(com.fasterxml.jackson.databind.JsonNode node) {
        if (node instanceof com.fasterxml.jackson.databind.node.ObjectNode object) {
            object.properties().removeIf(field -> field.getValue().isNull());
            object.forEach(JobService::withoutNulls);
        } else if (node.isArray()) {
            node.forEach(JobService::withoutNulls);
        }
        return node;
    }
}
