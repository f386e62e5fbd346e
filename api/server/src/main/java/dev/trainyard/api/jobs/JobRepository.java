package dev.trainyard.api.jobs;

import dev.trainyard.api.persistence.JobEntity;
import dev.trainyard.api.persistence.JobEventEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.persistence.TypedQuery;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** SQL of jobs and their events. State changes are guarded by the expected state and version. */
@ApplicationScoped
public class JobRepository {
    private final EntityManager em;

    public JobRepository(EntityManager em) {
        this.em = em;
    }

    public Optional<JobEntity> find(long id) {
        return Optional.ofNullable(em.find(JobEntity.class, id));
    }

    public Optional<JobEntity> findByIdempotencyKey(long projectId, String key) {
        return em.createQuery("from JobEntity where projectId = :p and idempotencyKey = :k", JobEntity.class)
                .setParameter("p", projectId).setParameter("k", key)
                .getResultStream().findFirst();
    }

    /**
     * Serialises submissions that carry the same idempotency key in one project: the second waits for the
     * first to commit and then finds its job, instead of both inserting and one failing on the unique key.
     */
    public void lockIdempotencyKey(long projectId, String key) {
        em.createNativeQuery("select 1 from (select pg_advisory_xact_lock(hashtextextended(:k, :p))) l")
                .setParameter("k", key).setParameter("p", projectId).getSingleResult();
    }

    public void insert(JobEntity job) {
        em.persist(job);
        em.flush();
    }

    /** Newest first, up to {@code limit} jobs with an id below {@code beforeId}. */
    public List<JobEntity> list(JobFilter filter, Long beforeId, int limit) {
        StringBuilder q = new StringBuilder("from JobEntity j where 1 = 1");
        if (filter.state() != null) {
            q.append(" and j.state = :state");
        }
        if (filter.projectId() != null) {
            q.append(" and j.projectId = :project");
        }
        if (filter.poolId() != null) {
            q.append(" and j.poolId = :pool");
        }
        if (filter.nameContains() != null) {
            q.append(" and lower(j.name) like :name escape '\\'");
        }
        if (beforeId != null) {
            q.append(" and j.id < :before");
        }
        q.append(" order by j.id desc");
        TypedQuery<JobEntity> query = em.createQuery(q.toString(), JobEntity.class).setMaxResults(limit);
        if (filter.state() != null) {
            query.setParameter("state", filter.state().name());
        }
        if (filter.projectId() != null) {
            query.setParameter("project", filter.projectId());
        }
        if (filter.poolId() != null) {
            query.setParameter("pool", filter.poolId());
        }
        if (filter.nameContains() != null) {
            query.setParameter("name", "%" + escapeLike(filter.nameContains().toLowerCase()) + "%");
        }
        if (beforeId != null) {
            query.setParameter("before", beforeId);
        }
        return query.getResultList();
    }

    /**
     * Moves a job from one state to another if it is still in that state at that version; returns false
     * (and changes nothing) when someone else changed it first.
     */
    public boolean transition(long jobId, long version, JobState from, JobState to, String reason, Instant now) {
        int updated = em.createNativeQuery("""
                update jobs set state = :to, state_reason = :reason, version = version + 1,
                       finished_at = case when :terminal then cast(:now as timestamptz) else finished_at end,
                       pending_reason = null, pending_message = null, queue_position = null, estimated_start_at = null
                 where id = :id and state = :from and version = :version""")
                .setParameter("to", to.name()).setParameter("reason", reason)
                .setParameter("terminal", to.isTerminal()).setParameter("now", now)
                .setParameter("id", jobId).setParameter("from", from.name()).setParameter("version", version)
                .executeUpdate();
        return updated == 1;
    }

    /** Asks a running job to stop: the runner learns it on its next heartbeat. */
    public boolean requestCancel(long jobId, long version, JobState from, Instant now) {
        // attempts before the job: the order every other writer (runner ends, the rescuer) locks them in
        em.createNativeQuery("select id from attempts where job_id = :id and ended_at is null for update")
                .setParameter("id", jobId).getResultList();
        int updated = em.createNativeQuery("""
                update jobs set cancel_requested = true, version = version + 1
                 where id = :id and state = :from and version = :version""")
                .setParameter("id", jobId).setParameter("from", from.name()).setParameter("version", version)
                .executeUpdate();
        if (updated == 1) {
            em.createNativeQuery("""
                    update attempts set state = 'STOPPING', stop_reason = 'CANCELLED',
                           stop_requested_at = coalesce(stop_requested_at, cast(:now as timestamptz))
                     where job_id = :id and ended_at is null and state <> 'STOPPING'""")
                    .setParameter("id", jobId).setParameter("now", now).executeUpdate();
        }
        return updated == 1;
    }

    public void addEvent(long jobId, JobState from, JobState to, String reason, String message, Long attemptId,
            Instant at) {
        JobEventEntity e = new JobEventEntity();
        e.jobId = jobId;
        e.at = at;
        e.fromState = from == null ? null : from.name();
        e.toState = to.name();
        e.reason = reason;
        e.message = message;
        e.attemptId = attemptId;
        em.persist(e);
    }

    public List<JobEventEntity> events(long jobId) {
        return em.createQuery("from JobEventEntity where jobId = :j order by id", JobEventEntity.class)
                .setParameter("j", jobId).getResultList();
    }

    /** Forget the persistence context's copy so the next read sees rows changed by native SQL. */
    public JobEntity reload(long jobId) {
        JobEntity cached = em.find(JobEntity.class, jobId);
        if (cached != null) {
            em.refresh(cached);
        }
        return cached;
    }

    private static String escapeLike(String s) {
        return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
    }
}
