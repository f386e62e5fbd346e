package dev.trainyard.runner.engine;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/** Generated addition problems, one per line ({@code 12+35=47}), as a byte stream. */
public final class ArithmeticCorpus {

    private ArithmeticCorpus() {}

    /** {@code lines} problems with operands below 100, the same bytes for the same seed. */
    public static byte[] generate(long seed, int lines) {
        SplittableRandom random = new SplittableRandom(seed);
        StringBuilder text = new StringBuilder(lines * 9);
        for (int i = 0; i < lines; i++) {
            int a = random.nextInt(100);
            int b = random.nextInt(100);
            text.append(a).append('+').append(b).append('=').append(a + b).append('\n');
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }
}
