package dev.trainyard.api.auth;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Resolves bearer secrets to callers. Answers are cached for a few seconds because every request is
 * authenticated; revocation through this replica clears the cache at once, other replicas within the TTL.
 */
@ApplicationScoped
public class TokenLookup {
    private static final Duration TTL = Duration.ofSeconds(5);

    private final AgroalDataSource dataSource;
    private final InstantSource clock;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    public TokenLookup(AgroalDataSource dataSource, InstantSource clock) {
        this.dataSource = dataSource;
        this.clock = clock;
    }

    public Optional<Caller> find(String secret) {
        String key = HexFormat.of().formatHex(TokenSecrets.hash(secret));
        long now = clock.millis();
        Cached hit = cache.get(key);
        if (hit != null && hit.expiresAtMillis > now) {
            return hit.caller;
        }
        Optional<Caller> caller = load(TokenSecrets.hash(secret));
        if (cache.size() > 10_000) {
            cache.clear();
        }
        cache.put(key, new Cached(caller, now + TTL.toMillis()));
        return caller;
    }

    public void invalidateAll() {
        cache.clear();
    }

    private Optional<Caller> load(byte[] hash) {
        String sql = "select id, name, role, project_id from api_tokens where token_hash = ? and revoked_at is null";
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setBytes(1, hash);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                long project = rs.getLong(4);
                Long projectId = rs.wasNull() ? null : project;
                return Optional.of(
                        new Caller(rs.getLong(1), rs.getString(2), Role.valueOf(rs.getString(3)), projectId));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("token lookup failed", e);
        }
    }

    private record Cached(Optional<Caller> caller, long expiresAtMillis) {}
}
