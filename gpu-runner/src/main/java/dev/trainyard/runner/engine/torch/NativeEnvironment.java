package dev.trainyard.runner.engine.torch;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * The environment libtorch's thread pools read once at load time. OpenBLAS and OpenMP take their thread
 * settings from environment variables only, and with spinning OpenMP workers two stage threads run several
 * times slower; a JVM cannot set its own environment, so the command line restarts itself once with them.
 */
public final class NativeEnvironment {

    static final String MARKER = "TRAINYARD_NATIVE_ENV";

    private NativeEnvironment() {}

    /** True unless this JVM already runs with the environment (or its caller set OpenMP's policy itself). */
    public static boolean needsRelaunch() {
        return System.getenv(MARKER) == null && System.getenv("OMP_WAIT_POLICY") == null;
    }

    /**
     * Runs {@code main} again in a child JVM with the environment set and returns the child's exit code; when no
     * child can be started, runs {@code inProcess} here instead.
     */
    public static int relaunch(Class<?> main, String[] args, ToIntFunction<String[]> inProcess) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> jvmArgs = ManagementFactory.getRuntimeMXBean().getInputArguments();
        command.addAll(jvmArgs);
        if (jvmArgs.stream().noneMatch(a -> a.startsWith("-Dorg.bytedeco.javacpp.maxPhysicalBytes"))) {
            // Scopes free native memory; JavaCPP's own accounting only costs time on every allocation.
            command.add("-Dorg.bytedeco.javacpp.maxPhysicalBytes=0");
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        builder.environment().put(MARKER, "1");
        builder.environment().putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
        builder.environment().putIfAbsent("OPENBLAS_NUM_THREADS", Integer.toString(blasThreads(args)));
        try {
            Process child = builder.start();
            // Ctrl-C reaches the child too (same process group); wait for it to write its checkpoint.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> waitFor(child)));
            return child.waitFor();
        } catch (IOException e) {
            System.err.println("cannot restart with the native environment (" + e.getMessage() + "); continuing");
            return inProcess.applyAsInt(args);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 130;
        }
    }

    /**
     * The bundled OpenBLAS has its own (pthread) pool that ignores libtorch's per-thread setting: one stage
     * may use all cores, several stages must not oversubscribe them, so give each stage its share.
     */
    static int blasThreads(String[] args) {
        int devices = 1;
        int perStage = 0;
        for (int i = 0; i + 1 < args.length; i++) {
            try {
                if (args[i].equals("--devices")) {
                    devices = Math.max(1, Integer.parseInt(args[i + 1]));
                } else if (args[i].equals("--threads-per-stage")) {
                    perStage = Integer.parseInt(args[i + 1]);
                }
            } catch (NumberFormatException e) {
                // picocli reports bad values; the default share is fine until then.
            }
        }
        boolean training = args.length > 0 && args[0].equals("train");
        int share = Math.max(1, Runtime.getRuntime().availableProcessors() / devices);
        return training ? (perStage > 0 ? perStage : share) : 1;
    }

    private static void waitFor(Process child) {
        try {
            child.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
