package dev.trainyard.system.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The complete events a browser received over its job stream connections, parsed from the raw text; an event
 * cut off mid-way was never handled by the page and is left out, as the page's own parser leaves it out.
 */
record StreamRecord(List<String> lastIds, List<Long> eventIds, List<String> points, List<Long> logIds) {
    private static final ObjectMapper JSON = new ObjectMapper();

    static StreamRecord parse(List<String> bodies) {
        StreamRecord r = new StreamRecord(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        for (String body : bodies) {
            String lastId = null;
            int end = body.lastIndexOf("\n\n");
            for (String block : end < 0 ? new String[0] : body.substring(0, end).split("\n\n")) {
                String name = "message";
                StringBuilder data = new StringBuilder();
                for (String line : block.split("\n")) {
                    if (line.startsWith("event:")) {
                        name = line.substring(6).trim();
                    } else if (line.startsWith("id:")) {
                        lastId = line.substring(3).trim();
                    } else if (line.startsWith("data:")) {
                        data.append(line.substring(5));
                    }
                }
                if (!data.isEmpty()) {
                    r.add(name, read(data.toString()));
                }
            }
            r.lastIds.add(lastId);
        }
        return r;
    }

    private void add(String name, JsonNode data) {
        switch (name) {
            case "event" -> eventIds.add(data.get("id").asLong());
            case "log" -> data.forEach(l -> logIds.add(l.get("id").asLong()));
            case "metrics" -> {
                for (Iterator<String> names = data.fieldNames(); names.hasNext(); ) {
                    String metric = names.next();
                    data.get(metric)
                            .forEach(
                                    p -> points.add(metric + "@" + p.get("step").asLong()));
                }
            }
            default -> {}
        }
    }

    /** The id of the last complete event of connection {@code i}. */
    String lastIdOf(int i) {
        return lastIds.get(i);
    }

    /** Events, points and lines that came more than once, over all connections. */
    List<String> duplicates() {
        List<String> out = new ArrayList<>();
        out.addAll(repeated(eventIds, "event "));
        out.addAll(repeated(points, "point "));
        out.addAll(repeated(logIds, "log line "));
        return out;
    }

    /** The steps of one metric that were streamed. */
    List<Long> steps(String metric) {
        return points.stream()
                .filter(p -> p.startsWith(metric + "@"))
                .map(p -> Long.parseLong(p.substring(metric.length() + 1)))
                .toList();
    }

    private static <T> List<String> repeated(List<T> values, String what) {
        Set<T> seen = new HashSet<>();
        List<String> out = new ArrayList<>();
        for (T v : values) {
            if (!seen.add(v)) {
                out.add(what + v);
            }
        }
        return out;
    }

    private static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
