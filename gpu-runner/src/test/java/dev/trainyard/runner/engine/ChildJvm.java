package dev.trainyard.runner.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Starts the runner's main class in a fresh JVM with this JVM's classpath and the native environment. */
final class ChildJvm {

    private ChildJvm() {}

    static Process start(Path log, String... args) throws IOException {
        return start(log, List.of(), Map.of(), args);
    }

    /**
     * Starts one whose resident memory follows its live tensors, for measuring activations ({@link
     * ResidentMemory}): glibc maps every block of 64 KiB or more on its own and unmaps it when freed, the Java heap
     * is fixed and touched up front, and only the light JIT compiler runs (the optimizing one's working memory came
     * and went by several MiB between runs).
     */
    static Process startMeasuringMemory(Path log, String... args) throws IOException {
        return start(
                log,
                List.of("-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch", "-XX:TieredStopAtLevel=1"),
                Map.of("MALLOC_MMAP_THRESHOLD_", "65536"),
                args);
    }

    /** Starts {@code main} (a class on this JVM's classpath) with {@code jvmOptions}, such as a small heap. */
    static Process startMain(Path log, List<String> jvmOptions, Class<?> main, String... args) throws IOException {
        return start(log, jvmOptions, Map.of(), main.getName(), args);
    }

    private static Process start(Path log, List<String> jvmOptions, Map<String, String> env, String... args)
            throws IOException {
        return start(log, jvmOptions, env, "dev.trainyard.runner.RunnerMain", args);
    }

    private static Process start(
            Path log, List<String> jvmOptions, Map<String, String> env, String mainClass, String... args)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-Dorg.bytedeco.javacpp.maxPhysicalBytes=0");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(List.of(args));
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        builder.environment().put("OPENBLAS_NUM_THREADS", "1");
        builder.environment().putAll(env);
        return builder.start();
    }

    static int await(Process process, Path log) throws Exception {
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("child JVM did not finish: " + Files.readString(log));
        }
        if (process.exitValue() != 0) {
            System.out.println(Files.readString(log));
        }
        return process.exitValue();
    }
}
