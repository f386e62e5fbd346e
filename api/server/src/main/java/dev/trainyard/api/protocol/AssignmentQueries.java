package dev.trainyard.api.protocol;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainyard.api.checkpoints.CheckpointIndex;
import dev.trainyard.api.checkpoints.CheckpointView;
import dev.trainyard.api.db.Jdbc;
import dev.trainyard.api.lifecycle.StopReason;
import dev.trainyard.spec.DataAccessPolicy;
import dev.trainyard.spec.JobSpec;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/** The SQL behind registrations and heartbeats: pools by name, and a runner's live attempts. */
final class AssignmentQueries {

    private AssignmentQueries() {}

    static Optional<Long> poolId(Connection c, String name) throws SQLException {
        return Jdbc.queryOne(c, "select id from pools where name = ?", rs -> rs.getLong(1), name);
    }

    /** The live attempts holding a rank on the runner. */
    static List<Long> liveAttempts(Connection c, long runnerId) throws SQLException {
        return Jdbc.query(c, """
                select distinct a.id from attempts a join attempt_runners ar on ar.attempt_id = a.id
                 where ar.runner_id = ? and a.ended_at is null order by a.id""", rs -> rs.getLong(1), runnerId);
    }

    /** The job of an attempt. */
    static Optional<Long> jobOf(Connection c, long attemptId) throws SQLException {
        return Jdbc.queryOne(c, "select job_id from attempts where id = ?", rs -> rs.getLong(1), attemptId);
    }

    /** The runner's live work: one assignment per live attempt it holds a rank of. */
    static List<RunnerMessages.Assignment> assignments(Connection c, ObjectMapper json, long runnerId)
            throws SQLException {
        return Jdbc.query(
                c,
                """
                select a.id, a.job_id, a.number, a.lease_token, j.spec, ar.gpus, ar.rank,
                       (select count(*) from attempt_runners x where x.attempt_id = a.id), a.state, a.stop_reason,
                       k.id, k.step, k.sha256, k.size_bytes,
                       (select sum(x.gpus) from attempt_runners x where x.attempt_id = a.id),
                       (select coalesce(sum(x.gpus), 0) from attempt_runners x
                         where x.attempt_id = a.id and x.rank < ar.rank),
                       a.rendezvous_host, a.rendezvous_port,
                       p.data_roots, p.allowed_hosts, p.allow_private_networks, p.max_download_bytes,
                       p.peak_flops_per_device
                  from attempt_runners ar join attempts a on a.id = ar.attempt_id join jobs j on j.id = a.job_id
                  join runners r on r.id = ar.runner_id join pools p on p.id = r.pool_id
                  left join checkpoints k on k.id = a.resume_checkpoint_id and k.state = 'COMPLETE'
                 where ar.runner_id = ? and a.ended_at is null order by a.id""",
                rs -> {
                    long checkpoint = rs.getLong(11);
                    RunnerMessages.CheckpointRef resume = rs.wasNull() ? null : resumeRef(c, checkpoint);
                    JobSpec spec = StoredSpecs.read(json, rs.getString(5));
                    ReplicaShare share = ReplicaShare.of(spec, rs.getInt(15), rs.getInt(16), rs.getInt(6));
                    String host = rs.getString(17);
                    String rendezvous = host == null ? null : host + ":" + rs.getInt(18);
                    return new RunnerMessages.Assignment(
                            rs.getLong(1),
                            rs.getLong(2),
                            rs.getInt(3),
                            rs.getString(4),
                            spec,
                            rs.getInt(6),
                            rs.getInt(7),
                            rs.getInt(8),
                            share.first(),
                            share.count(),
                            StageShare.of(spec, rs.getInt(8), rs.getInt(7), rs.getInt(16), rs.getInt(6), rs.getInt(15)),
                            rendezvous,
                            rs.getString(9),
                            StopReason.protocolWordOf(rs.getString(10)),
                            resume,
                            new DataAccessPolicy(
                                    strings(json, rs.getString(19)),
                                    strings(json, rs.getString(20)),
                                    rs.getBoolean(21),
                                    rs.getLong(22)),
                            rs.getObject(23, Double.class));
                },
                runnerId);
    }

    /**
     * The checkpoint an attempt resumes from, with its shards: a query of its own inside the row loop (the driver
     * has read the rows already), as only an attempt's first assignments resume.
     */
    private static RunnerMessages.CheckpointRef resumeRef(Connection c, long checkpointId) throws SQLException {
        CheckpointView v =
                CheckpointIndex.findAny(c, checkpointId).orElseThrow().view();
        return new RunnerMessages.CheckpointRef(
                v.id(), v.step(), v.sha256(), v.sizeBytes(), v.shardCount(), v.shards());
    }

    private static List<String> strings(ObjectMapper json, String array) throws SQLException {
        try {
            return List.of(json.readValue(array, String[].class));
        } catch (java.io.IOException e) {
            throw new SQLException("a pool's data access list is not a JSON array of strings", e);
        }
    }
}
