package dev.trainyard.api.scheduling;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

/**
 * A lease row in PostgreSQL that makes one API replica the leader of the singleton loops (scheduler, rescuer,
 * cost accounting). The holder renews it every cycle; another replica takes over once it has expired.
 */
@ApplicationScoped
public class LeaderLease {
    static final String NAME = "scheduler";

    private final AgroalDataSource dataSource;
    private final String holder = "api-" + UUID.randomUUID();
    private volatile Instant leaderSince;

    public LeaderLease(AgroalDataSource dataSource) {
        this.dataSource = dataSource;
    }

    public String holder() {
        return holder;
    }

    /** Takes or renews the lease; true when this replica holds it until {@code now + ttl}. */
    public boolean acquire(Instant now, Duration ttl) {
        boolean held = acquire(holder, now, ttl);
        if (!held) {
            leaderSince = null;
        } else if (leaderSince == null) {
            leaderSince = now;
        }
        return held;
    }

    /** When this replica became leader (null while it is not): silence before then is nobody's fault. */
    public Instant leaderSince() {
        return leaderSince;
    }

    boolean acquire(String who, Instant now, Duration ttl) {
        try (Connection c = dataSource.getConnection()) {
            return acquire(c, who, now, ttl);
        } catch (SQLException e) {
            throw new IllegalStateException("lease update failed", e);
        }
    }

    /** Takes or renews the lease for {@code who} over {@code c}; true when it holds it until {@code now + ttl}. */
    static boolean acquire(Connection c, String who, Instant now, Duration ttl) throws SQLException {
        String sql = """
                insert into leases (name, holder, expires_at) values (?, ?, ?)
                on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
                 where leases.holder = excluded.holder or leases.expires_at < ?
                returning holder""";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, NAME);
            ps.setString(2, who);
            ps.setTimestamp(3, Timestamp.from(now.plus(ttl)));
            ps.setTimestamp(4, Timestamp.from(now));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * Inside a transaction: locks the lease row if this replica still holds it, so no other replica can take
     * over until the transaction ends. Writes of the loops run only after this returned true.
     */
    public static boolean holdWithin(Connection c, String who, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "select 1 from leases where name = ? and holder = ? and expires_at > ? for update")) {
            ps.setString(1, NAME);
            ps.setString(2, who);
            ps.setTimestamp(3, Timestamp.from(now));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
