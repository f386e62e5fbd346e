package dev.trainyard.api.jobs;

import dev.trainyard.api.persistence.JobEntity;
import dev.trainyard.api.persistence.JobEventEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.persistence.TypedQuery;
import java.util.List;
import java.util.Optional;

/** Reads of jobs and their events; their state changes belong to {@code dev.trainyard.api.lifecycle}. */
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
                .setParameter("p", projectId)
                .setParameter("k", key)
                .getResultStream()
                .findFirst();
    }

    /**
     * Serialises submissions that carry the same idempotency key in one project: the second waits for the
     * first to commit and then finds its job, instead of both inserting and one failing on the unique key.
     */
    public void lockIdempotencyKey(long projectId, String key) {
        em.createNativeQuery("select 1 from (select pg_advisory_xact_lock(hashtextextended(:k, :p))) l")
                .setParameter("k", key)
                .setParameter("p", projectId)
                .getSingleResult();
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
        TypedQuery<JobEntity> query =
                em.createQuery(q.toString(), JobEntity.class).setMaxResults(limit);
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

    public List<JobEventEntity> events(long jobId) {
        return em.createQuery("from JobEventEntity where jobId = :j order by id", JobEventEntity.class)
                .setParameter("j", jobId)
                .getResultList();
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
