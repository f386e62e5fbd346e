package dev.trainyard.api.projects;

import dev.trainyard.api.persistence.ProjectEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** SQL of projects and their spend. */
@ApplicationScoped
public class ProjectRepository {
    private final EntityManager em;

    public ProjectRepository(EntityManager em) {
        this.em = em;
    }

    public Optional<ProjectEntity> findByName(String name) {
        return em.createQuery("from ProjectEntity where name = :n", ProjectEntity.class)
                .setParameter("n", name)
                .getResultStream()
                .findFirst();
    }

    public Optional<ProjectEntity> find(long id) {
        return Optional.ofNullable(em.find(ProjectEntity.class, id));
    }

    public List<ProjectEntity> all() {
        return em.createQuery("from ProjectEntity order by name", ProjectEntity.class)
                .getResultList();
    }

    public Map<Long, String> namesById() {
        return all().stream().collect(Collectors.toMap(p -> p.id, p -> p.name));
    }

    public void insert(ProjectEntity project) {
        em.persist(project);
        em.flush();
    }

    /** What the project has spent: the sum of its cost ledger. */
    public BigDecimal spent(long projectId) {
        Object sum = em.createNativeQuery("select coalesce(sum(amount_usd), 0) from cost_ledger where project_id = :p")
                .setParameter("p", projectId)
                .getSingleResult();
        return sum instanceof BigDecimal b ? b : new BigDecimal(sum.toString());
    }
}
