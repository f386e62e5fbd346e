package dev.trainyard.runner.engine.torch;

/** A stage gave up because another stage failed first: a consequence, never the failure to report. */
final class StageAbortedException extends IllegalStateException {

    StageAbortedException(String message, Throwable cause) {
        super(message, cause);
    }
}
