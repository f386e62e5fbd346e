package dev.trainyard.runner.engine;

/** Asked between steps whether training should go on; the runner agent backs it with the API's answer. */
@FunctionalInterface
public interface StopSignal {

  /** Called after each finished step; must return quickly (cache remote answers). */
  StopRequest check(long completedSteps);

  /** A signal that never stops training. */
  static StopSignal never() {
    return completedSteps -> StopRequest.CONTINUE;
  }
}
