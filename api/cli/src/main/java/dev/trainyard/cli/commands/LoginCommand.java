package dev.trainyard.cli.commands;

import dev.trainyard.cli.Api;
import dev.trainyard.cli.CliConfig;
import dev.trainyard.cli.CliFailure;
import dev.trainyard.cli.ExitCodes;
import dev.trainyard.cli.TrainyardCli;
import dev.trainyard.client.model.Identity;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** Checks an API URL and token against the API and stores them for the other commands. */
@Command(
        name = "login",
        description = "Check and store the API URL and token (in ~/.config/trainyard/config.json,"
                + " mode 600, or $TRAINYARD_CONFIG).")
public class LoginCommand implements Callable<Integer> {
    @ParentCommand
    private TrainyardCli root;

    @Spec
    private CommandSpec spec;

    @Option(
            names = "--api",
            paramLabel = "URL",
            description =
                    "API base URL, e.g. http://localhost:8080" + " (default: $TRAINYARD_API, then the stored one).")
    private String apiUrl;

    @Option(
            names = "--token",
            paramLabel = "TOKEN",
            description = "API token (default: $TRAINYARD_TOKEN, then the" + " stored one).")
    private String token;

    @Override
    public Integer call() {
        CliConfig config = root.store().resolve().overriddenBy(new CliConfig(apiUrl, token));
        if (config.api() == null || config.api().isBlank()) {
            throw new CliFailure(ExitCodes.USAGE, "give the API URL with --api (or TRAINYARD_API)");
        }
        if (config.token() == null || config.token().isBlank()) {
            throw new CliFailure(ExitCodes.USAGE, "give the token with --token (or TRAINYARD_TOKEN)");
        }
        Identity me = new Api(config).tokens().whoAmI();
        root.store().save(config);
        spec.commandLine()
                .getOut()
                .printf(
                        "Logged in to %s as %s (%s%s); saved in %s%n",
                        config.api(),
                        me.getName(),
                        me.getRole(),
                        me.getProject() == null ? "" : ", project " + me.getProject(),
                        root.store().file());
        return ExitCodes.OK;
    }
}
