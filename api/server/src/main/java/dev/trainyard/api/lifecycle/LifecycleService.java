package dev.trainyard.api.lifecycle;

import dev.trainyard.api.persistence.JobEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.time.Instant;
import org.hibernate.Session;

/**
 * The lifecycle writes of the services that work through the entity manager (submission, cancellation,
 * drain), run on that manager's connection, so they commit or roll back with the caller's transaction.
 */
@ApplicationScoped
public class LifecycleService {
    private final EntityManager em;

    public LifecycleService(EntityManager em) {
        this.em = em;
    }

    /** Inserts a new job QUEUED, with its SUBMITTED event. */
    public void submit(JobEntity job, String message) {
        job.state = JobState.QUEUED.word();
        em.persist(job);
        em.flush();
        session().doWork(c -> JobTransitions.submitted(c, job.id, message, job.submittedAt));
    }

    /** Cancels a job that waits in the queue; false when it changed since {@code job} was read. */
    public boolean cancelWaiting(JobEntity job, String message, Instant now) {
        JobState from = JobState.ofWord(job.state);
        return session()
                .doReturningWork(c -> JobTransitions.move(
                        c,
                        JobMove.of(job.id, from, JobState.CANCELLED, EventReason.CANCELLED_BY_USER, message)
                                .atVersion(job.version),
                        now));
    }

    /** Asks a job that holds devices to stop; false when it changed since {@code job} was read. */
    public boolean requestCancel(JobEntity job, Instant now) {
        JobState from = JobState.ofWord(job.state);
        return session().doReturningWork(c -> JobTransitions.requestCancel(c, job.id, job.version, from, now));
    }

    /** Drains a runner seen in state {@code seen}; false when it changed meanwhile. */
    public boolean drain(long runnerId, RunnerState seen) {
        return session().doReturningWork(c -> RunnerTransitions.drain(c, runnerId, seen));
    }

    private Session session() {
        // pending entity changes first: the JDBC work below must see them
        em.flush();
        return em.unwrap(Session.class);
    }
}
