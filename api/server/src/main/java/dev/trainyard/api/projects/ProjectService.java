package dev.trainyard.api.projects;

import dev.trainyard.api.auth.Caller;
import dev.trainyard.api.error.ApiException;
import dev.trainyard.api.error.ProblemType;
import dev.trainyard.api.persistence.ProjectEntity;
import dev.trainyard.spec.Violations;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.math.BigDecimal;
import java.time.InstantSource;
import java.util.List;

/** Rules of projects: admins create and change them, members read their own. */
@ApplicationScoped
public class ProjectService {
    /** The document's maximum of budgetUsd. */
    static final String MAX_BUDGET = "1000000000";

    private final ProjectRepository projects;
    private final InstantSource clock;

    public ProjectService(ProjectRepository projects, InstantSource clock) {
        this.projects = projects;
        this.clock = clock;
    }

    @Transactional
    public ProjectView create(Caller caller, ProjectRequests.Create request) {
        caller.requireAdmin();
        Violations v = new Violations();
        if (request == null) {
            v.add("$", "a body is required");
            v.throwIfAny();
        }
        if (v.require("name", request.name())) {
            v.checkResourceName("name", request.name());
        }
        checkBudget(request.budgetUsd(), ProjectRequests.Create.class, v);
        v.checkBounds("share", request.share(), ProjectRequests.Create.class, "share");
        v.throwIfAny();
        if (projects.findByName(request.name()).isPresent()) {
            throw new ApiException.Conflict(
                    ProblemType.ALREADY_EXISTS, "A project named '" + request.name() + "' exists");
        }
        ProjectEntity p = new ProjectEntity();
        p.name = request.name();
        p.budgetUsd = request.budgetUsd();
        p.share = request.share() == null ? 1.0 : request.share();
        p.createdAt = clock.instant();
        projects.insert(p);
        return view(p);
    }

    @Transactional
    public ProjectView update(Caller caller, String name, ProjectRequests.Update request) {
        caller.requireAdmin();
        ProjectEntity p = projects.findByName(name).orElseThrow(() -> new ApiException.NotFound("project", name));
        Violations v = new Violations();
        if (request == null) {
            v.add("$", "a body is required");
            v.throwIfAny();
        }
        checkBudget(request.budgetUsd(), ProjectRequests.Update.class, v);
        v.checkBounds("share", request.share(), ProjectRequests.Update.class, "share");
        if (Boolean.TRUE.equals(request.unlimited()) && request.budgetUsd() != null) {
            v.add("unlimited", "cannot be combined with budgetUsd");
        }
        v.throwIfAny();
        if (request.budgetUsd() != null) {
            p.budgetUsd = request.budgetUsd();
        }
        if (Boolean.TRUE.equals(request.unlimited())) {
            p.budgetUsd = null;
        }
        if (request.share() != null) {
            p.share = request.share();
        }
        return view(p);
    }

    @Transactional
    public List<ProjectView> list(Caller caller) {
        return projects.all().stream()
                .filter(p -> caller.canAccessProject(p.id))
                .map(this::view)
                .toList();
    }

    @Transactional
    public ProjectView get(Caller caller, String name) {
        return view(visible(caller, name));
    }

    /** The project if the caller may see it; otherwise not found, so that names of others do not leak. */
    public ProjectEntity visible(Caller caller, String name) {
        return projects.findByName(name)
                .filter(p -> caller.canAccessProject(p.id))
                .orElseThrow(() -> new ApiException.NotFound("project", name));
    }

    private static void checkBudget(BigDecimal budget, Class<? extends Record> request, Violations v) {
        v.checkBounds("budgetUsd", budget, request, "budgetUsd");
    }

    ProjectView view(ProjectEntity p) {
        return new ProjectView(p.id, p.name, p.budgetUsd, projects.spent(p.id), p.share, p.createdAt);
    }
}
