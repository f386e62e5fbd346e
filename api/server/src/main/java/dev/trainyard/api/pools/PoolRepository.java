package dev.trainyard.api.pools;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.api.lifecycle.RunnerState;
import dev.trainyard.api.persistence.PoolEntity;
import dev.trainyard.spec.DeviceMemoryFit;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** SQL of pools and their capacity. */
@ApplicationScoped
public class PoolRepository {
    private final EntityManager em;
    private final ObjectMapper json;

    public PoolRepository(EntityManager em, ObjectMapper json) {
        this.em = em;
        this.json = json;
    }

    public Optional<PoolEntity> findByName(String name) {
        return em.createQuery("from PoolEntity where name = :n", PoolEntity.class)
                .setParameter("n", name)
                .getResultStream()
                .findFirst();
    }

    public List<PoolEntity> all() {
        return em.createQuery("from PoolEntity order by name", PoolEntity.class).getResultList();
    }

    public List<PoolEntity> byGpuType(String gpuType) {
        return em.createQuery("from PoolEntity where gpuType = :t order by name", PoolEntity.class)
                .setParameter("t", gpuType)
                .getResultList();
    }

    public Map<Long, String> namesById() {
        return all().stream().collect(Collectors.toMap(p -> p.id, p -> p.name));
    }

    public void insert(PoolEntity pool) {
        em.persist(pool);
        em.flush();
    }

    /** Capacity of a pool's schedulable runners: devices in all, free now, and on the largest runner. */
    public Capacity capacity(long poolId) {
        Object[] row = (Object[]) em.createNativeQuery("""
                select count(*), coalesce(sum(r.total_gpus), 0), coalesce(max(r.total_gpus), 0),
                       coalesce(sum(r.total_gpus - coalesce(u.used, 0)), 0)
                  from runners r
                  left join (select ar.runner_id, sum(ar.gpus) used from attempt_runners ar
                               join attempts a on a.id = ar.attempt_id and a.ended_at is null
                              group by ar.runner_id) u on u.runner_id = r.id
                 where r.pool_id = :p and r.state = :active""")
                .setParameter("p", poolId)
                .setParameter("active", RunnerState.ACTIVE.word())
                .getSingleResult();
        return new Capacity(
                ((Number) row[0]).intValue(),
                ((Number) row[1]).intValue(),
                ((Number) row[2]).intValue(),
                ((Number) row[3]).intValue());
    }

    /** A runner's devices as it reported them at registration. */
    public record RunnerDevices(String runner, List<DeviceMemoryFit.Device> devices) {}

    /**
     * The devices of every runner the pool has that is not OFFLINE: a runner lost for now may come back, so a job
     * it could hold is not refused while it is away.
     */
    public List<RunnerDevices> runnerDevices(long poolId) {
        @SuppressWarnings("unchecked")
        List<Object[]> rows = em.createNativeQuery(
                        "select name, cast(devices as text) from runners where pool_id = :p and state <> :offline"
                                + " order by name")
                .setParameter("p", poolId)
                .setParameter("offline", RunnerState.OFFLINE.word())
                .getResultList();
        return rows.stream()
                .map(r -> new RunnerDevices((String) r[0], devices((String) r[1])))
                .toList();
    }

    /** The part of a stored device (runners.devices) the memory check reads. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    private record StoredDevice(String name, String kind, Long memoryBytes) {}

    private List<DeviceMemoryFit.Device> devices(String stored) {
        try {
            return json.readValue(stored, new TypeReference<List<StoredDevice>>() {}).stream()
                    .map(d -> new DeviceMemoryFit.Device(d.name(), d.kind(), d.memoryBytes()))
                    .toList();
        } catch (JsonProcessingException e) {
            return List.of();
        }
    }

    /** Active runners of a pool and their devices. */
    public record Capacity(int runners, int totalGpus, int largestRunnerGpus, int freeGpus) {
        public int usedGpus() {
            return totalGpus - freeGpus;
        }
    }
}
