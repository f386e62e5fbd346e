package dev.trainyard.cli;

import dev.trainyard.client.ApiException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.http.HttpTimeoutException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/** Prints a failure for people on stderr and answers its exit code. */
public final class FailureHandler implements IExecutionExceptionHandler {

    @Override
    public int handleExecutionException(Exception e, CommandLine cl, ParseResult parsed) {
        PrintWriter err = cl.getErr();
        int code = report(e, err);
        err.flush();
        return code;
    }

    /** Writes the message of {@code e} and answers the exit code it stands for. */
    public static int report(Exception e, PrintWriter err) {
        if (e instanceof CliFailure f) {
            err.println("error: " + f.getMessage());
            return f.exitCode();
        }
        if (e instanceof ApiException a && a.getCode() > 0) {
            ProblemReport.lines(a.getCode(), a.getResponseBody()).forEach(err::println);
            return ExitCodes.forStatus(a.getCode());
        }
        if (e instanceof ApiException a) {
            err.println("error: cannot reach the API: " + describe(a.getCause() == null ? a : a.getCause()));
            return ExitCodes.FAILURE;
        }
        err.println("error: " + describe(e));
        return ExitCodes.FAILURE;
    }

    private static String describe(Throwable t) {
        if (t instanceof ConnectException) {
            return "connection refused";
        }
        if (t instanceof HttpTimeoutException) {
            return "timed out";
        }
        String message = t.getMessage();
        return message == null || message.isBlank() ? t.getClass().getSimpleName() : message;
    }
}
