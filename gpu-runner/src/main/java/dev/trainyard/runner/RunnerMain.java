package dev.trainyard.runner;

import dev.trainyard.runner.engine.TrainCommand;
import dev.trainyard.runner.engine.torch.NativeEnvironment;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The jar's entry point: dispatches {@code gpu-runner <command> ...} to a subcommand. The runner agent
 * registers its {@code agent} command here next to the engine's {@code train}.
 */
public final class RunnerMain {

    /** Each command takes its own arguments and returns the process exit code. */
    private static final Map<String, Function<String[], Integer>> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("train", TrainCommand::run);
        COMMANDS.put("agent", dev.trainyard.runner.agent.AgentCommand::run);
    }

    private RunnerMain() {}

    public static void main(String[] args) {
        if (NativeEnvironment.needsRelaunch()) {
            System.exit(NativeEnvironment.relaunch(RunnerMain.class, args, RunnerMain::dispatch));
        }
        System.exit(dispatch(args));
    }

    /** Runs the named command; usage and exit code 2 for an unknown one. */
    public static int dispatch(String[] args) {
        if (args.length == 0 || !COMMANDS.containsKey(args[0])) {
            System.err.println("usage: java -jar gpu-runner.jar <command> [options]\ncommands: "
                    + String.join(", ", COMMANDS.keySet()) + "\n(use <command> --help for its options)");
            return 2;
        }
        return COMMANDS.get(args[0]).apply(Arrays.copyOfRange(args, 1, args.length));
    }
}
