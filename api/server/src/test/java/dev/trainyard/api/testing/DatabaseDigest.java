package dev.trainyard.api.testing;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** A fingerprint of every row of every table the API writes: equal before and after means nothing changed. */
public final class DatabaseDigest {
    private static volatile String query;

    private DatabaseDigest() {}

    public static String now() {
        try (Connection c = Db.connection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(query(s))) {
            StringBuilder digest = new StringBuilder();
            while (rs.next()) {
                digest.append(rs.getString(1)).append('\n');
            }
            return digest.toString();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One statement over all tables, so that a digest costs one round trip. */
    private static String query(Statement s) throws SQLException {
        if (query == null) {
            List<String> parts = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("""
                    select table_name from information_schema.tables
                     where table_schema = 'public' and table_type = 'BASE TABLE'
                       and table_name <> 'flyway_schema_history' order by table_name""")) {
                while (rs.next()) {
                    String table = rs.getString(1);
                    parts.add("select '" + table + "=' || count(*) || ':' || md5(coalesce(string_agg(t::text, '|'"
                            + " order by t::text), '')) from " + table + " t");
                }
            }
            query = String.join(" union all ", parts);
        }
        return query;
    }
}
