package dev.trainyard.api.jobs;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

/**
 * Tells every API replica that jobs changed, through PostgreSQL NOTIFY: delivered when the transaction
 * commits, so listeners (the scheduler loop, event streams) never see uncommitted work.
 */
@ApplicationScoped
public class JobSignals {
    public static final String CHANNEL = "trainyard_jobs";
    public static final String METRICS_CHANNEL = "trainyard_metrics";

    private final EntityManager em;

    public JobSignals(EntityManager em) {
        this.em = em;
    }

    public void jobsChanged() {
        em.createNativeQuery("select pg_notify('" + CHANNEL + "', 'changed')").getSingleResult();
    }
}
