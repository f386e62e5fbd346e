package dev.trainyard.cli;

import dev.trainyard.cli.commands.CancelCommand;
import dev.trainyard.cli.commands.CheckpointsCommand;
import dev.trainyard.cli.commands.DownloadCommand;
import dev.trainyard.cli.commands.GetCommand;
import dev.trainyard.cli.commands.ListCommand;
import dev.trainyard.cli.commands.LoginCommand;
import dev.trainyard.cli.commands.LogsCommand;
import dev.trainyard.cli.commands.MetricsCommand;
import dev.trainyard.cli.commands.PlanCommand;
import dev.trainyard.cli.commands.PoolsCommand;
import dev.trainyard.cli.commands.QueueCommand;
import dev.trainyard.cli.commands.RunnersCommand;
import dev.trainyard.cli.commands.SubmitCommand;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** The {@code trainyard} command: its subcommands, its configuration and how failures become exit codes. */
@Command(
        name = "trainyard",
        mixinStandardHelpOptions = true,
        version = "trainyard 0.1.0",
        description = "Submit, watch and steer training jobs on a Trainyard API.",
        subcommands = {
            LoginCommand.class,
            PlanCommand.class,
            SubmitCommand.class,
            ListCommand.class,
            GetCommand.class,
            LogsCommand.class,
            MetricsCommand.class,
            CancelCommand.class,
            CheckpointsCommand.class,
            DownloadCommand.class,
            PoolsCommand.class,
            RunnersCommand.class,
            QueueCommand.class
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success (submit --wait: the job SUCCEEDED)",
            "1:failure (submit --wait: the job FAILED)",
            "2:usage or invalid request (submit --wait: CANCELLED or BUDGET_EXHAUSTED)",
            "3:not logged in or token refused",
            "4:not found",
            "5:conflict with the current state"
        })
public class TrainyardCli implements Runnable {
    private final ConfigStore store;
    private final Duration pollInterval;

    @Spec
    private CommandSpec spec;

    public TrainyardCli(ConfigStore store, Duration pollInterval) {
        this.store = store;
        this.pollInterval = pollInterval;
    }

    public static void main(String[] args) {
        ConfigStore store = ConfigStore.fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
        System.exit(commandLine(store, Duration.ofSeconds(1)).execute(args));
    }

    /** The command line with its error handling, ready to {@code execute}. */
    public static CommandLine commandLine(ConfigStore store, Duration pollInterval) {
        CommandLine cl = new CommandLine(new TrainyardCli(store, pollInterval));
        cl.setExecutionExceptionHandler(new FailureHandler());
        return cl;
    }

    public ConfigStore store() {
        return store;
    }

    /** How long following commands wait between polls. */
    public Duration pollInterval() {
        return pollInterval;
    }

    /** A client for the configured API; fails with the auth exit code when there is no login. */
    public Api api() {
        CliConfig config = store.resolve();
        if (!config.complete()) {
            throw new CliFailure(
                    ExitCodes.AUTH,
                    "not logged in: run 'trainyard login --api URL --token TOKEN'"
                            + " or set TRAINYARD_API and TRAINYARD_TOKEN");
        }
        return new Api(config);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
