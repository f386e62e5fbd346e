package dev.trainyard.runner.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Starts the runner's main class in a fresh JVM with this JVM's classpath and the native environment. */
final class ChildJvm {

    private ChildJvm() {}

    static Process start(Path log, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Dorg.bytedeco.javacpp.maxPhysicalBytes=0");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("dev.trainyard.runner.RunnerMain");
        command.addAll(List.of(args));
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        builder.environment().put("OPENBLAS_NUM_THREADS", "1");
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
