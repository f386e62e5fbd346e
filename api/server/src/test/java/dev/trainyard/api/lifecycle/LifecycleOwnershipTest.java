package dev.trainyard.api.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the lifecycle package the only writer of states: no other main source sets {@code state} on jobs,
 * attempts or runners (in SQL or on an entity) or inserts job events. Reads and other columns are free.
 */
class LifecycleOwnershipTest {
    private static final Path MAIN = Path.of("src/main/java");
    private static final Path LIFECYCLE = MAIN.resolve("dev/trainyard/api/lifecycle");

    /** Each way of writing a state or an event, in SQL text blocks or in Java. */
    private static final List<Pattern> STATE_WRITES = List.of(
            // an UPDATE of one of the three tables whose SET clause (before WHERE) assigns state
            Pattern.compile("(?is)\\bupdate\\s+(jobs|attempts|runners)\\b(?:(?!\"\"\").)*?\\bset\\b"
                    + "(?:(?!\\bwhere\\b|\"\"\").)*?(?<![\\w.])state\\s*="),
            Pattern.compile("(?is)\\binsert\\s+into\\s+job_events\\b"),
            Pattern.compile("(?is)\\binsert\\s+into\\s+(jobs|attempts|runners)\\s*\\([^)]*(?<![\\w.])state\\b"),
            // an entity's state field assigned in Java
            Pattern.compile("\\.state\\s*=\\s*(?!=|any\\()[A-Za-z\"]"),
            Pattern.compile("new\\s+JobEventEntity\\s*\\("));

    @Test
    void onlyTheLifecyclePackageWritesStatesOrJobEvents() throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java") && !f.startsWith(LIFECYCLE))
                    .toList()) {
                found.addAll(writesIn(file));
            }
        }
        assertThat(found).isEmpty();
    }

    @Test
    void thePatternsRecogniseTheWritesTheyGuardAgainst() {
        assertThat(writesIn(
                        "x", "\"\"\"\n update jobs set pending_reason = ?\n  where id = ? and state = 'QUEUED'\"\"\""))
                .isEmpty();
        assertThat(writesIn("x", "\"\"\"\n update attempts set state = 'RUNNING' where id = ?\"\"\""))
                .hasSize(1);
        assertThat(writesIn(
                        "x",
                        "\"\"\"\n update runners set last_heartbeat_at = ?,\n"
                                + "   state = case when state = 'REGISTERED' then 'ACTIVE' else state end\"\"\""))
                .hasSize(1);
        assertThat(writesIn("x", "\"insert into job_events (job_id) values (?)\""))
                .hasSize(1);
        assertThat(writesIn("x", "r.state = \"DRAINING\";")).hasSize(1);
        assertThat(writesIn("x", "\"select 1 from jobs j where j.state = 'QUEUED' and a.state = any(?)\""))
                .isEmpty();
    }

    private static List<String> writesIn(Path file) throws IOException {
        return writesIn(MAIN.relativize(file).toString(), Files.readString(file));
    }

    private static List<String> writesIn(String name, String source) {
        List<String> found = new ArrayList<>();
        for (Pattern p : STATE_WRITES) {
            Matcher m = p.matcher(source);
            while (m.find()) {
                int line = (int) source.substring(0, m.start())
                                .chars()
                                .filter(ch -> ch == '\n')
                                .count()
                        + 1;
                found.add(name + ":" + line);
            }
        }
        return found;
    }
}
