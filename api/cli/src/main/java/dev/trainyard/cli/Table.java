package dev.trainyard.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A plain-text table with columns padded to their widest cell and no trailing spaces. */
public final class Table {
    private static final String GAP = "  ";
    private final List<String> headers;
    private final List<List<String>> rows = new ArrayList<>();

    public Table(String... headers) {
        this.headers = List.of(headers);
    }

    /** Adds a row; null cells print as "-". */
    public Table add(Object... cells) {
        if (cells.length != headers.size()) {
            throw new IllegalArgumentException("expected " + headers.size() + " cells, got " + cells.length);
        }
        rows.add(Arrays.stream(cells).map(c -> c == null ? "-" : c.toString()).toList());
        return this;
    }

    public boolean isEmpty() {
        return rows.isEmpty();
    }

    public String render() {
        return render(true);
    }

    /** The rows alone, for key-value listings whose headers say nothing. */
    public String renderRows() {
        return render(false);
    }

    private String render(boolean withHeaders) {
        int[] widths = new int[headers.size()];
        if (withHeaders) {
            measure(headers, widths);
        }
        rows.forEach(r -> measure(r, widths));
        StringBuilder out = new StringBuilder();
        if (withHeaders) {
            line(out, headers, widths);
        }
        rows.forEach(r -> line(out, r, widths));
        return out.toString();
    }

    private static void measure(List<String> cells, int[] widths) {
        for (int i = 0; i < cells.size(); i++) {
            widths[i] = Math.max(widths[i], cells.get(i).length());
        }
    }

    private static void line(StringBuilder out, List<String> cells, int[] widths) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            line.append(cells.get(i));
            if (i < cells.size() - 1) {
                line.append(" ".repeat(widths[i] - cells.get(i).length())).append(GAP);
            }
        }
        out.append(line.toString().stripTrailing()).append('\n');
    }
}
