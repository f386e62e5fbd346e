package dev.trainyard.runner.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Where the agent finds its runner token: a file ({@code --token-file}) or the environment variable
 * {@value #ENV}, never its command line, which every user of the machine can read ({@code ps},
 * {@code /proc/<pid>/cmdline}). A process's environment and a file of mode 600 are readable only by its owner.
 */
final class RunnerSecret {
    static final String ENV = "TRAINYARD_RUNNER_TOKEN";

    private RunnerSecret() {}

    /**
     * The token, from {@code tokenFile} when given, else from {@value #ENV} in {@code env}. A token on the
     * command line is refused rather than warned about: by the time a warning is read, the secret has been
     * visible to every local user for as long as the runner ran. A token file that others may read is used, with
     * a warning to {@code warnings}.
     *
     * @throws IllegalArgumentException with a message for the operator when there is no usable token
     */
    static String resolve(String commandLineToken, Path tokenFile, Map<String, String> env, Consumer<String> warnings) {
        if (commandLineToken != null) {
            throw new IllegalArgumentException("--token is refused: a command line is visible to every user of this"
                    + " machine. Put the runner token in the environment variable " + ENV
                    + " or in a file readable only by you, given with --token-file");
        }
        if (tokenFile != null) {
            return fromFile(tokenFile, warnings);
        }
        String fromEnv = env.get(ENV);
        if (fromEnv == null || fromEnv.isBlank()) {
            throw new IllegalArgumentException(
                    "No runner token: set the environment variable " + ENV + " or give --token-file");
        }
        return fromEnv.trim();
    }

    private static String fromFile(Path file, Consumer<String> warnings) {
        String token;
        try {
            token = Files.readString(file).trim();
        } catch (IOException e) {
            throw new IllegalArgumentException("Cannot read the token file " + file + ": " + e.getMessage());
        }
        if (token.isEmpty() || token.lines().count() != 1) {
            throw new IllegalArgumentException("The token file " + file + " must hold exactly one token");
        }
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
            if (permissions.contains(PosixFilePermission.GROUP_READ)
                    || permissions.contains(PosixFilePermission.OTHERS_READ)) {
                warnings.accept("warning: the token file " + file + " is readable by others; chmod 600 it");
            }
        } catch (UnsupportedOperationException | IOException e) {
            // no POSIX permissions here (or a link): nothing to check
        }
        return token;
    }
}
