package dev.trainyard.api.error;

import java.io.IOException;

/** Thrown while reading a JSON body that goes past the limit; answered 413. */
public class BodyTooLargeException extends IOException {
    public BodyTooLargeException(long limit) {
        super("JSON bodies are limited to " + limit + " bytes");
    }
}
