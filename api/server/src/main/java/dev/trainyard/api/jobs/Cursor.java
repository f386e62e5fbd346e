package dev.trainyard.api.jobs;

import dev.trainyard.api.error.ApiException;
import dev.trainyard.api.error.ProblemType;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Opaque pagination cursors: the id of the last job of the previous page, encoded. */
final class Cursor {
    private static final String PREFIX = "j:";

    private Cursor() {}

    static String encode(long lastId) {
        return Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString((PREFIX + lastId).getBytes(StandardCharsets.UTF_8));
    }

    static Long decode(String cursor) {
        if (cursor == null || cursor.isEmpty()) {
            return null;
        }
        try {
            String text = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            if (!text.startsWith(PREFIX)) {
                throw new IllegalArgumentException(text);
            }
            return Long.parseLong(text.substring(PREFIX.length()));
        } catch (IllegalArgumentException e) {
            throw new ApiException.InvalidInput(ProblemType.BAD_PARAMETER, "cursor is not one this API handed out");
        }
    }
}
