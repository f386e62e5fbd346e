package dev.trainyard.cli.commands;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.trainyard.cli.Api;
import dev.trainyard.cli.CliFailure;
import dev.trainyard.cli.ExitCodes;
import dev.trainyard.cli.Table;
import dev.trainyard.cli.TrainyardCli;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** A command that talks to the API and prints a table for people or, with --json, the API's answer. */
abstract class ApiCommand implements Callable<Integer> {
    @ParentCommand
    private TrainyardCli root;

    @Spec
    private CommandSpec spec;

    @Option(names = "--json", description = "Print the API's answer as JSON, for scripts.")
    protected boolean json;

    private Api api;

    protected TrainyardCli root() {
        return root;
    }

    protected Api api() {
        if (api == null) {
            api = root.api();
        }
        return api;
    }

    protected PrintWriter out() {
        return spec.commandLine().getOut();
    }

    protected PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** Prints {@code answer} as JSON with --json, otherwise the table; answers exit code 0. */
    protected int print(Object answer, Table table) {
        if (json) {
            printJson(answer);
        } else {
            out().print(table.render());
        }
        out().flush();
        return ExitCodes.OK;
    }

    protected void printJson(Object answer) {
        try {
            out().println(api().mapper().writerWithDefaultPrettyPrinter().writeValueAsString(answer));
        } catch (JsonProcessingException e) {
            throw new CliFailure(ExitCodes.FAILURE, "cannot write JSON: " + e.getOriginalMessage());
        }
    }

    protected void pause() {
        try {
            Thread.sleep(root.pollInterval().toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliFailure(ExitCodes.FAILURE, "interrupted");
        }
    }
}
