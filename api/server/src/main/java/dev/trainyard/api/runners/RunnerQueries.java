package dev.trainyard.api.runners;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.api.auth.Caller;
import dev.trainyard.api.error.ApiException;
import dev.trainyard.api.error.ProblemType;
import dev.trainyard.api.lifecycle.LifecycleService;
import dev.trainyard.api.lifecycle.RunnerState;
import dev.trainyard.api.persistence.RunnerEntity;
import dev.trainyard.api.pools.PoolRepository;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.util.List;
import java.util.Map;

/** People's view of runners: list, inspect, drain. The runners' own endpoints live in the runner protocol. */
@ApplicationScoped
public class RunnerQueries {
    private final EntityManager em;
    private final PoolRepository pools;
    private final ObjectMapper json;
    private final LifecycleService lifecycle;

    public RunnerQueries(EntityManager em, PoolRepository pools, ObjectMapper json, LifecycleService lifecycle) {
        this.em = em;
        this.pools = pools;
        this.json = json;
        this.lifecycle = lifecycle;
    }

    @Transactional
    public List<RunnerView> list(String poolName) {
        Map<Long, String> poolNames = pools.namesById();
        return em.createQuery("from RunnerEntity order by id", RunnerEntity.class)
                .getResultStream()
                .filter(r -> poolName == null || poolName.equals(poolNames.get(r.poolId)))
                .map(r -> view(r, poolNames))
                .toList();
    }

    @Transactional
    public RunnerView get(long id) {
        return view(find(id), pools.namesById());
    }

    /** Stops new work from going to a runner; what runs there finishes. */
    @Transactional
    public RunnerView drain(Caller caller, long id) {
        caller.requireAdmin();
        RunnerEntity r = find(id);
        RunnerState seen = RunnerState.ofWord(r.state);
        if (!RunnerState.TRANSITIONS.allows(seen, RunnerState.DRAINING)) {
            throw new ApiException.Conflict(ProblemType.INVALID_STATE, "Runner " + id + " is " + r.state);
        }
        if (!lifecycle.drain(id, seen)) {
            throw new ApiException.Conflict(
                    ProblemType.INVALID_STATE, "Runner " + id + " changed while it was being drained; try again");
        }
        em.refresh(r);
        return view(r, pools.namesById());
    }

    private RunnerEntity find(long id) {
        RunnerEntity r = em.find(RunnerEntity.class, id);
        if (r == null) {
            throw new ApiException.NotFound("runner", id);
        }
        return r;
    }

    @SuppressWarnings("unchecked")
    private RunnerView view(RunnerEntity r, Map<Long, String> poolNames) {
        List<Object[]> live = em.createNativeQuery("""
                select a.job_id, ar.gpus from attempt_runners ar join attempts a on a.id = ar.attempt_id
                 where ar.runner_id = :r and a.ended_at is null order by a.job_id""").setParameter("r", r.id).getResultList();
        int used = live.stream().mapToInt(row -> ((Number) row[1]).intValue()).sum();
        List<Long> jobs = live.stream()
                .map(row -> ((Number) row[0]).longValue())
                .distinct()
                .toList();
        return new RunnerView(
                r.id,
                r.name,
                r.host,
                poolNames.get(r.poolId),
                r.state,
                r.totalGpus,
                used,
                devices(r.devices),
                r.registeredAt,
                r.lastHeartbeatAt,
                jobs);
    }

    private List<RunnerView.Device> devices(String stored) {
        try {
            return json.readValue(stored, new TypeReference<List<RunnerView.Device>>() {});
        } catch (JsonProcessingException e) {
            return List.of();
        }
    }
}
