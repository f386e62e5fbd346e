package dev.trainyard.scheduler;

/** GPUs taken on runner positions of one pool, in node-rank order. */
record Gang(int[] positions, int[] gpus, int total) {
    static Gang single(int position, int gpus) {
        return new Gang(new int[] {position}, new int[] {gpus}, gpus);
    }
}
