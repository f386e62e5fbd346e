package dev.trainyard.system.bench;

import dev.trainyard.system.support.Platform;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Starts the real platform for a benchmark run from Maven, wherever Maven was started. */
final class BenchPlatform {
    private BenchPlatform() {}

    static Platform start(String name) {
        return start(name, Map.of());
    }

    /** What a benchmark measures on a started platform. */
    interface Measurement {
        void run(Platform platform) throws Exception;
    }

    /** Prints the header, runs {@code measurement} on a platform of its own, closes it and prints the footer. */
    static void measure(String title, String name, Measurement measurement) throws Exception {
        Figures.header(title);
        try (Platform platform = start(name)) {
            measurement.run(platform);
        }
        Figures.footer();
    }

    /**
     * With -Dbench.jfr=true the API records a JFR profile (settings=profile) into its folder, written when the
     * platform closes.
     */
    static Platform start(String name, Map<String, String> env) {
        locateRepository();
        Map<String, String> all = new HashMap<>(env);
        if (Boolean.getBoolean("bench.jfr")) {
            Path jfr = Path.of(System.getProperty("trainyard.root"), "src/test/target", "system-" + name, "api.jfr");
            all.put(
                    "JAVA_TOOL_OPTIONS",
                    "-XX:FlightRecorderOptions:stackdepth=256 -XX:StartFlightRecording=settings=profile,dumponexit=true,filename="
                            + jfr);
            System.out.println("profiling the API into " + jfr);
        }
        Platform p = Platform.start(name, all);
        System.out.println("platform: API at " + p.baseUrl() + " (pid "
                + p.api().pid() + "), log " + p.api().log());
        return p;
    }

    /** Repository.root() reads trainyard.root; exec:java runs in Maven's directory, not the module's. */
    private static void locateRepository() {
        if (System.getProperty("trainyard.root") != null) {
            return;
        }
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("api/server/pom.xml"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("run from inside the repository, or pass -Dtrainyard.root=");
        }
        System.setProperty("trainyard.root", dir.toString());
    }
}
