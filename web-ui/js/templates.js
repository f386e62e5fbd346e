// Starting points for the submit form: specs that train in seconds to minutes on a CPU pool.

export const TEMPLATES = {
  gpt: {
    label: 'Small GPT on the arithmetic corpus',
    spec: (defaults) => ({
      name: 'arith-gpt',
      project: defaults.project,
      priority: 'normal',
      resources: {pool: defaults.pool, gpus: 2},
      limits: {maxCostUsd: 5, maxRuntimeSeconds: 3600, maxRestarts: 3},
      model: {type: 'gpt', layers: 2, dModel: 64, heads: 4, seqLen: 32, vocab: 128, dropout: 0},
      data: {type: 'arithmetic', seed: 7, evalFraction: 0.1},
      training: {steps: 200, batchSize: 16, learningRate: 0.003, evalEvery: 20, seed: 42, precision: 'fp32'},
      parallelism: {microBatches: 4, schedule: '1f1b'},
      checkpoint: {everySteps: 50, keepLast: 3},
    }),
  },
  mlp: {
    label: 'MLP on synthetic tabular data',
    spec: (defaults) => ({
      name: 'tabular-mlp',
      project: defaults.project,
      priority: 'normal',
      resources: {pool: defaults.pool, gpus: 1},
      limits: {maxCostUsd: 2, maxRuntimeSeconds: 1800, maxRestarts: 3},
      model: {type: 'mlp', inputs: 8, hidden: [64, 64], outputs: 2, task: 'classification'},
      data: {type: 'synthetic-tabular', seed: 7, rows: 4096, evalFraction: 0.1},
      training: {steps: 300, batchSize: 64, learningRate: 0.01, evalEvery: 30, seed: 42, precision: 'fp32'},
      parallelism: {microBatches: 1, schedule: '1f1b'},
      checkpoint: {everySteps: 100, keepLast: 3},
    }),
  },
};

/** The value at a dotted path ("model.heads"), or undefined. */
export function getPath(obj, path) {
  return path.split('.').reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), obj);
}

/** Sets (or with undefined, removes) the value at a dotted path, creating objects on the way. */
export function setPath(obj, path, value) {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null) o[k] = {};
    o = o[k];
  }
  const last = keys[keys.length - 1];
  if (value === undefined) delete o[last];
  else o[last] = value;
}
