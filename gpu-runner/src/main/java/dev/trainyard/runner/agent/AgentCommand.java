package dev.trainyard.runner.agent;

import dev.trainyard.client.model.Device;
import dev.trainyard.runner.engine.MemoryPlanner;
import dev.trainyard.runner.engine.torch.DeviceProbe;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code agent}: runs this machine as a runner node of a Trainyard platform. */
@Command(
        name = "agent",
        mixinStandardHelpOptions = true,
        description = "Join a Trainyard platform as a runner node and train the attempts it assigns.")
public final class AgentCommand implements Callable<Integer> {
    /** The longest leave window accepted: beyond an hour a stop is better served by a checkpoint policy. */
    static final int MAX_LEAVE_WITHIN_SECONDS = 3600;

    @Option(names = "--api", required = true, defaultValue = "${env:TRAINYARD_API}", description = "API base URL")
    String api;

    /** Only to refuse it with a reason ({@link RunnerSecret}): picocli would otherwise call it unknown. */
    @Option(names = "--token", hidden = true)
    String tokenOnCommandLine;

    @Option(
            names = "--token-file",
            description = "file holding the runner token (role RUNNER), mode 600; without it the token is read from"
                    + " the environment variable " + RunnerSecret.ENV + ". A token on the command line is refused.")
    Path tokenFile;

    @Spec
    CommandSpec spec;

    @Option(names = "--pool", required = true, defaultValue = "${env:TRAINYARD_POOL}", description = "pool to join")
    String pool;

    @Option(names = "--name", description = "runner name, unique and stable (default: host name)")
    String name;

    @Option(
            names = "--devices",
            defaultValue = "0",
            description =
                    "CPU devices to offer when there is no CUDA device (0 = 1); with CUDA, the CUDA devices are offered")
    int devices;

    @Option(names = "--work-dir", description = "where attempts keep their files (default: ~/.trainyard/runner/<name>)")
    Path workDir;

    @Option(names = "--threads-per-stage", defaultValue = "1", description = "intra-op threads of each pipeline stage")
    int threadsPerStage;

    @Option(
            names = "--host",
            description = "name or address other runners reach this one at, for data-parallel"
                    + " attempts over several runners (default: host name)")
    String host;

    @Option(
            names = "--dp-timeout",
            defaultValue = "120",
            description = "seconds a data-parallel rank waits for its"
                    + " peers (to join, or in a collective) before the attempt fails")
    int dpTimeoutSeconds;

    @Option(
            names = "--metrics-port",
            defaultValue = "0",
            description = "serve Prometheus metrics (step time, tokens/s, memory) on this port at /metrics; 0 = off")
    int metricsPort;

    @Option(
            names = "--leave-within",
            defaultValue = "${env:TRAINYARD_RUNNER_LEAVE_WITHIN:-25}",
            description = "seconds the runner gives its attempts on SIGTERM or Ctrl-C to checkpoint, upload and"
                    + " report before it exits (1-" + MAX_LEAVE_WITHIN_SECONDS + "; default 25, inside the 30 s"
                    + " most supervisors wait before SIGKILL; environment TRAINYARD_RUNNER_LEAVE_WITHIN)")
    int leaveWithinSeconds;

    @Option(
            names = "--cpu-memory",
            defaultValue = "${env:TRAINYARD_RUNNER_CPU_MEMORY}",
            description = "memory this runner's CPU devices offer, together (they are slices of one host and share"
                    + " it), in bytes or with a binary suffix (512m, 48g); the API refuses jobs whose stages on CPU"
                    + " devices need more together. Default: the host's total memory (environment"
                    + " TRAINYARD_RUNNER_CPU_MEMORY)")
    String cpuMemory;

    /** Parses {@code args} and runs; returns the exit code. */
    public static int run(String[] args) {
        return new CommandLine(new AgentCommand()).execute(args);
    }

    @Override
    public Integer call() {
        String token;
        try {
            token = RunnerSecret.resolve(tokenOnCommandLine, tokenFile, System.getenv(), System.err::println);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        java.time.Duration leaveWithin = leaveWindow();
        List<Device> devices = devices(DeviceProbe.cudaDeviceCount(), MemoryPlanner.hostTotalBytes());
        String host = this.host != null ? this.host : hostName();
        String runnerName = name != null ? name : hostName();
        Path dir = workDir != null
                ? workDir
                : Path.of(System.getProperty("user.home"), ".trainyard", "runner", runnerName);
        RunnerAgent agent = new RunnerAgent(new RunnerAgent.Settings(
                api,
                token,
                runnerName,
                host,
                pool,
                devices,
                dir,
                threadsPerStage,
                metricsPort,
                java.time.Duration.ofSeconds(dpTimeoutSeconds)));
        // SIGTERM or Ctrl-C: checkpoint what runs and leave, inside the time the supervisor waits before SIGKILL
        Runtime.getRuntime().addShutdownHook(new Thread(() -> agent.leave(leaveWithin), "leave"));
        return agent.run();
    }

    /** How long a stop on purpose may take, from {@code --leave-within} or its environment variable. */
    java.time.Duration leaveWindow() {
        if (leaveWithinSeconds < 1 || leaveWithinSeconds > MAX_LEAVE_WITHIN_SECONDS) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--leave-within (or TRAINYARD_RUNNER_LEAVE_WITHIN) must be 1-" + MAX_LEAVE_WITHIN_SECONDS
                            + " seconds, not " + leaveWithinSeconds);
        }
        return java.time.Duration.ofSeconds(leaveWithinSeconds);
    }

    /**
     * The devices to offer: each CUDA device with its own total memory, or else {@code --devices} CPU devices, each
     * reporting the memory they share (configured, or the host's total), which the API's plan checks the stages on
     * them against together.
     */
    List<Device> devices(int cuda, long hostMemory) {
        List<Device> out = new ArrayList<>();
        if (cuda > 0) {
            for (int i = 0; i < cuda; i++) {
                Long memory = DeviceProbe.cudaTotalMemoryBytes(i).stream()
                        .boxed()
                        .findFirst()
                        .orElse(null);
                out.add(new Device().index(i).kind("cuda").name("cuda:" + i).memoryBytes(memory));
            }
            return out;
        }
        Long shared = cpuMemory(hostMemory).orElse(hostMemory > 0 ? hostMemory : null);
        for (int i = 0; i < Math.max(1, devices); i++) {
            out.add(new Device().index(i).kind("cpu").name("cpu:" + i).memoryBytes(shared));
        }
        return out;
    }

    /** {@code --cpu-memory} in bytes, when given; at most the host's memory where that is known. */
    java.util.Optional<Long> cpuMemory(long hostMemory) {
        if (cpuMemory == null || cpuMemory.isBlank()) {
            return java.util.Optional.empty();
        }
        long bytes = ByteSize.parse(cpuMemory)
                .orElseThrow(() -> new ParameterException(
                        spec.commandLine(),
                        "--cpu-memory (or TRAINYARD_RUNNER_CPU_MEMORY) must be a positive number of bytes,"
                                + " optionally with k, m, g or t (binary), not '" + cpuMemory + "'"));
        if (hostMemory > 0 && bytes > hostMemory) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--cpu-memory " + cpuMemory + " is more than this host's " + hostMemory
                            + " bytes: CPU devices cannot offer memory the host does not have");
        }
        return java.util.Optional.of(bytes);
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
