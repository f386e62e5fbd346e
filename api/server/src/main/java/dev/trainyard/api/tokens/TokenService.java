package dev.trainyard.api.tokens;

import dev.trainyard.api.auth.Caller;
import dev.trainyard.api.auth.Role;
import dev.trainyard.api.auth.TokenLookup;
import dev.trainyard.api.auth.TokenSecrets;
import dev.trainyard.api.error.ApiException;
import dev.trainyard.api.error.ProblemType;
import dev.trainyard.api.persistence.ProjectEntity;
import dev.trainyard.api.persistence.TokenEntity;
import dev.trainyard.api.projects.ProjectRepository;
import dev.trainyard.spec.SchemaBounds;
import dev.trainyard.spec.Violations;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.time.InstantSource;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Creates, lists and revokes API tokens (admin only); secrets are returned once and stored hashed. */
@ApplicationScoped
public class TokenService {
    private final EntityManager em;
    private final ProjectRepository projects;
    private final TokenLookup lookup;
    private final InstantSource clock;

    public TokenService(EntityManager em, ProjectRepository projects, TokenLookup lookup, InstantSource clock) {
        this.em = em;
        this.projects = projects;
        this.lookup = lookup;
        this.clock = clock;
    }

    @Transactional
    public TokenRequests.Created create(Caller caller, TokenRequests.Create request) {
        caller.requireAdmin();
        Violations v = new Violations();
        if (request == null) {
            v.add("$", "a body is required");
            v.throwIfAny();
        }
        if (v.require("name", request.name())
                && (request.name().isBlank() || request.name().length() > 100)) {
            v.add("name", "must be 1-100 characters");
        }
        Role role = parseRole(request.role(), v);
        Long projectId = null;
        if (role == Role.MEMBER && v.require("project", request.project())) {
            projectId = projects.findByName(request.project()).map(p -> p.id).orElse(null);
            if (projectId == null) {
                v.add("project", "no project named '" + request.project() + "'");
            }
        } else if (role != null && role != Role.MEMBER && request.project() != null) {
            v.add("project", "only MEMBER tokens belong to a project");
        }
        v.throwIfAny();
        String secret = TokenSecrets.newSecret();
        TokenEntity t = insert(request.name(), role, projectId, secret);
        return new TokenRequests.Created(view(t, request.project()), secret);
    }

    /** Stores a token with a given secret; used at start to install the configured admin token. */
    @Transactional
    public TokenEntity insert(String name, Role role, Long projectId, String secret) {
        TokenEntity t = new TokenEntity();
        t.name = name;
        t.role = role.name();
        t.projectId = projectId;
        t.tokenHash = TokenSecrets.hash(secret);
        t.prefix = TokenSecrets.displayPrefix(secret);
        t.createdAt = clock.instant();
        em.persist(t);
        em.flush();
        return t;
    }

    @Transactional
    public boolean exists(String secret) {
        return !em.createQuery("from TokenEntity where tokenHash = :h and revokedAt is null", TokenEntity.class)
                .setParameter("h", TokenSecrets.hash(secret))
                .setMaxResults(1)
                .getResultList()
                .isEmpty();
    }

    @Transactional
    public boolean anyActiveAdmin() {
        return !em.createQuery("from TokenEntity where role = 'ADMIN' and revokedAt is null", TokenEntity.class)
                .setMaxResults(1)
                .getResultList()
                .isEmpty();
    }

    @Transactional
    public List<TokenView> list(Caller caller) {
        caller.requireAdmin();
        Map<Long, String> names = projects.namesById();
        return em.createQuery("from TokenEntity order by id", TokenEntity.class)
                .getResultStream()
                .map(t -> view(t, t.projectId == null ? null : names.get(t.projectId)))
                .toList();
    }

    @Transactional
    public TokenView revoke(Caller caller, long id) {
        caller.requireAdmin();
        TokenEntity t = em.find(TokenEntity.class, id);
        if (t == null) {
            throw new ApiException.NotFound("token", id);
        }
        if (t.id == caller.tokenId()) {
            throw new ApiException.Conflict(ProblemType.INVALID_STATE, "A token cannot revoke itself");
        }
        if (t.revokedAt == null) {
            t.revokedAt = clock.instant();
        }
        lookup.invalidateAll();
        return view(
                t,
                t.projectId == null
                        ? null
                        : projects.find(t.projectId).map(p -> p.name).orElse(null));
    }

    @Transactional
    public TokenRequests.Identity whoAmI(Caller caller) {
        String project = caller.projectId() == null
                ? null
                : projects.find(caller.projectId())
                        .map((ProjectEntity p) -> p.name)
                        .orElse(null);
        return new TokenRequests.Identity(
                caller.tokenId(), caller.tokenName(), caller.role().name(), project);
    }

    private static Role parseRole(String role, Violations v) {
        if (!v.require("role", role)) {
            return null;
        }
        String word = role.toUpperCase(Locale.ROOT);
        if (!SchemaBounds.of(TokenRequests.Create.class, "role").admits(word)) {
            v.add(
                    "role",
                    "must be one of "
                            + String.join(
                                    ", ",
                                    SchemaBounds.of(TokenRequests.Create.class, "role")
                                            .allowed()) + ", was '" + role + "'");
            return null;
        }
        return Role.valueOf(word);
    }

    private static TokenView view(TokenEntity t, String project) {
        return new TokenView(t.id, t.name, t.role, project, t.prefix, t.createdAt, t.revokedAt);
    }
}
