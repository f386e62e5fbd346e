package dev.trainyard.api.observability;

import org.jboss.logging.MDC;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;

/**
 * Log lines written while a request is about an attempt carry its job and attempt ids (the console format
 * prints the MDC); the ids are cleared when the answer leaves, so worker threads never carry them over.
 */
public class LogContext {
    @ServerResponseFilter
    public void clear() {
        MDC.remove("jobId");
        MDC.remove("attemptId");
    }
}
