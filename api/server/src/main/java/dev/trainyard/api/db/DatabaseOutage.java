package dev.trainyard.api.db;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.Locale;

/**
 * Tells a failure caused by PostgreSQL being unreachable (refused or broken connections, a server shutting down,
 * no connection free in time) from one caused by the request: the first is answered 503 with Retry-After, because
 * the same request will succeed once the database is back.
 */
public final class DatabaseOutage {
    /** Seconds a client should wait before it retries a request refused during an outage. */
    public static final int RETRY_AFTER_SECONDS = 5;

    private DatabaseOutage() {}

    /** Whether this failure, or any failure that caused it, says the database cannot be reached. */
    public static boolean isCause(Throwable failure) {
        int depth = 0;
        for (Throwable t = failure; t != null && depth < 32; t = t.getCause(), depth++) {
            if (t instanceof SQLException sql && unreachable(sql)) {
                return true;
            }
        }
        return false;
    }

    private static boolean unreachable(SQLException e) {
        if (e instanceof SQLTransientConnectionException) {
            return true;
        }
        String state = e.getSQLState();
        if (state != null) {
            // class 08: connection exceptions; 57P01-57P03: the server is shutting down, crashed or starting up
            return state.startsWith("08") || state.equals("57P01") || state.equals("57P02") || state.equals("57P03");
        }
        // the connection pool's own refusal when no connection could be had in time carries no SQL state
        String message = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
        return message.contains("acquisition timeout");
    }
}
