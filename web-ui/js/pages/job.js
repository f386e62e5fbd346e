// One job: facts, why it waits, live charts with zoom, events, attempts, the exported model, checkpoints, logs
// and cancel.
import {h, replace, table, row, badge} from '../dom.js';
import {get, post, blob, query, stream} from '../api.js';
import * as fmt from '../format.js';
import {problemBox, progressBar, eta, costText, liveDot, section, flash, loading} from '../ui.js';
import {lineChart, stageSplitChart} from '../charts.js';

const CHARTS = [
  {id: 'loss', title: 'Loss', unit: 'nats', series: [{name: 'loss', label: 'train'}, {name: 'eval_loss', label: 'eval'}], format: fmt.number},
  {id: 'throughput', title: 'Throughput', unit: 'tokens/s', series: [{name: 'tokens_per_second', label: 'tokens/s'}], format: fmt.number},
  {id: 'lr', title: 'Learning rate', unit: 'dimensionless', series: [{name: 'learning_rate', label: 'learning rate'}], format: (v) => Number(v).toExponential(2), tickFormat: (v) => Number(v).toExponential(1)},
  {id: 'grad', title: 'Gradient norm', unit: 'L2 norm', series: [{name: 'grad_norm', label: 'grad norm'}], format: fmt.number},
  {id: 'memory', title: 'Peak memory', unit: 'MiB', series: [{name: 'peak_rss_bytes', label: 'peak RSS'}], format: fmt.number, scale: 1 / 1024 ** 2},
  {id: 'mfu', title: 'Model FLOP utilization', unit: '% of peak', series: [{name: 'mfu', label: 'MFU'}], format: fmt.number, scale: 100,
    emptyText: 'Not reported unless the pool declares its peak FLOP/s per device'},
];
/** The stage split is the mean of this many most recent steps. */
const SPLIT_WINDOW = 20;
const STAGE_METRIC = /^stage(\d+)\.(compute|bubble|comm)_seconds$/;
const NAMES = CHARTS.flatMap((c) => c.series.map((s) => s.name));
const MAX_LIVE_POINTS = 2000;
const LOG_LINES = 500;

export function render(main, {id}) {
  let job = null;
  let zoom = null;
  let disposed = false;
  let checkpointTimer;
  let refetchTimer;
  const eventIds = new Set();
  const logIds = new Set();

  const live = liveDot();
  const cancelBox = h('span', {class: 'cancel-box'});
  const head = h('div', {class: 'page-head'}, h('h1', {}, 'Job #' + id), live);
  const facts = h('div', {class: 'card facts-card', id: 'job-facts'}, loading());
  const pending = h('div', {id: 'job-pending'});
  const zoomInfo = h('span', {class: 'muted', id: 'zoom-info'}, 'Drag across a chart to zoom into a range of steps.');
  const resetBtn = h('button', {type: 'button', class: 'ghost', id: 'zoom-reset', hidden: true, onclick: () => setZoom(null)}, 'Reset zoom');
  const timeline = h('ol', {class: 'timeline', id: 'events'});
  const attempts = h('div', {id: 'attempts'}, loading());
  const checkpoints = h('div', {id: 'checkpoints'}, loading());
  const exported = h('div', {id: 'export'}, loading());
  const logBox = h('pre', {class: 'logs', id: 'logs', tabindex: '0', 'aria-label': 'Log tail'});
  const errorBox = h('div', {});

  const charts = CHARTS.map((c) => {
    const chart = lineChart({...c, format: c.format, onZoom: (from, to) => setZoom({from, to})});
    return {...c, chart};
  });

  const split = stageSplitChart({title: 'Time per pipeline stage, mean of the last ' + SPLIT_WINDOW + ' steps',
    format: fmt.number, emptyText: 'No stage timings yet'});
  /** Stage metric name -> Map(step -> seconds), the newest SPLIT_WINDOW steps of each. */
  const stagePoints = new Map();

  main.append(head, errorBox, facts, pending,
    h('div', {class: 'zoom-bar'}, zoomInfo, resetBtn),
    h('div', {class: 'charts'}, charts.map((c) => c.chart.el), split.el),
    h('div', {class: 'two-col'},
      section('Events', timeline),
      section('Attempts', attempts)),
    section('Exported model', exported),
    section('Checkpoints', checkpoints),
    section('Log tail', logBox));

  function scaled(c, points) {
    return c.scale ? points.map((p) => ({step: p.step, value: p.value * c.scale})) : points;
  }

  // --- the job itself
  async function loadJob() {
    try {
      showJob(await get('/jobs/' + id));
    } catch (err) {
      replace(errorBox, problemBox(err));
      replace(facts, h('p', {class: 'muted'}, 'This job cannot be shown.'));
    }
  }

  function showJob(j) {
    const first = !job;
    const stateChanged = first || job.state !== j.state;
    job = j;
    replace(head, h('h1', {}, j.name, h('small', {class: 'muted'}, ' #' + j.id)), badge(j.state), live, cancelBox);
    updateCancel(j);
    document.title = j.name + ' · Trainyard';
    const step = j.progress.step;
    replace(facts, h('dl', {class: 'facts grid-facts'},
      h('dt', {}, 'State'), h('dd', {id: 'job-state'}, fmt.reason(j.state), j.stateReason ? ' — ' + fmt.reason(j.stateReason) : '',
        j.cancelRequested && !fmt.TERMINAL.has(j.state) ? ' (cancel requested)' : ''),
      h('dt', {}, 'Progress'), h('dd', {id: 'job-progress'}, progressBar(step, j.progress.totalSteps, eta(j, step))),
      h('dt', {}, 'Cost'), h('dd', {id: 'job-cost'}, costText(j.cost)),
      h('dt', {}, 'Project'), h('dd', {}, j.project),
      h('dt', {}, 'Pool'), h('dd', {}, j.pool || (j.gpuType ? 'any ' + j.gpuType : '—')),
      h('dt', {}, 'GPUs'), h('dd', {}, j.minGpus !== j.gpus ? j.minGpus + '–' + fmt.gpus(j.gpus) : fmt.gpus(j.gpus)),
      h('dt', {}, 'Priority'), h('dd', {}, j.priority),
      h('dt', {}, 'Restarts'), h('dd', {}, j.restarts + ' of ' + j.maxRestarts),
      h('dt', {}, 'Submitted'), h('dd', {}, fmt.when(j.submittedAt)),
      h('dt', {}, 'Started'), h('dd', {}, fmt.when(j.startedAt)),
      h('dt', {}, 'Finished'), h('dd', {}, fmt.when(j.finishedAt)),
      h('dt', {}, 'Model'), h('dd', {}, modelText(j.spec))));
    replace(pending, j.pending ? h('div', {class: 'card pending', id: 'pending-info'},
      h('h2', {}, 'Why it is waiting'),
      h('p', {}, h('strong', {}, fmt.reason(j.pending.reason)), j.pending.message ? ' — ' + j.pending.message : ''),
      h('p', {}, j.pending.queuePosition ? 'Position ' + j.pending.queuePosition + ' in the queue of pool ' + (j.pool || '?') + '.' : '',
        j.pending.estimatedStartAt ? ' Estimated start: ' + fmt.when(j.pending.estimatedStartAt) + '.' : '')) : null);
    if (stateChanged) {
      loadSplit();
      loadAttempts();
      loadCheckpoints();
      loadExport();
    }
    clearInterval(checkpointTimer);
    if (!fmt.TERMINAL.has(j.state)) {
      // Checkpoints have no stream event; a late metric point (an eval at a step already streamed) is not
      // streamed either, so both are re-read now and then while the job lives, and once when it ends.
      checkpointTimer = setInterval(() => { loadCheckpoints(); if (!zoom) loadMetrics(); }, 15000);
    } else if (stateChanged && !first && !zoom) {
      loadMetrics();
    }
  }

  /** The cancel control lives across job updates, so that a question being asked is not reset by one. */
  function updateCancel(j) {
    if (fmt.TERMINAL.has(j.state)) {
      cancelBox.replaceChildren();
    } else if (j.cancelRequested) {
      replace(cancelBox, h('span', {class: 'muted'}, 'Cancelling…'));
    } else if (!cancelBox.firstChild || cancelBox.dataset.mode === 'done') {
      askCancel();
    }
  }

  function askCancel() {
    cancelBox.dataset.mode = 'ask';
    replace(cancelBox, h('button', {type: 'button', class: 'danger', id: 'cancel-job', onclick: () => {
      cancelBox.dataset.mode = 'confirm';
      replace(cancelBox, h('span', {}, 'Cancel this job? '),
        h('button', {type: 'button', class: 'danger', id: 'confirm-cancel', onclick: doCancel}, 'Yes, cancel it'),
        h('button', {type: 'button', class: 'ghost', onclick: askCancel}, 'Keep it'));
    }}, 'Cancel job'));
  }

  async function doCancel() {
    cancelBox.dataset.mode = 'done';
    try {
      showJob(await post('/jobs/' + id + ':cancel'));
      flash('Cancel requested for job #' + id + '.', 'ok');
    } catch (err) {
      replace(errorBox, problemBox(err));
      askCancel();
    }
  }

  // --- metrics and zoom
  async function loadMetrics() {
    const q = query({names: NAMES.join(','), points: 500, fromStep: zoom?.from, toStep: zoom?.to});
    try {
      const m = await get('/jobs/' + id + '/metrics' + q);
      if (disposed) return;
      const byName = Object.fromEntries(m.series.map((s) => [s.name, s.points]));
      for (const c of charts) {
        c.chart.setRange(zoom ? zoom.from : null, zoom ? zoom.to : null);
        c.chart.set(Object.fromEntries(c.series.map((s) => [s.name, scaled(c, byName[s.name] || [])])));
      }
    } catch (err) {
      if (!disposed) replace(errorBox, problemBox(err));
    }
  }

  function setZoom(range) {
    zoom = range;
    resetBtn.hidden = !range;
    zoomInfo.textContent = range ? 'Showing steps ' + fmt.count(range.from) + ' to ' + fmt.count(range.to) + '.'
      : 'Drag across a chart to zoom into a range of steps.';
    loadMetrics();
  }

  // --- where each stage's step time goes (the newest steps, whatever the zoom)
  async function loadSplit() {
    if (!job) return;
    const q = query({fromStep: Math.max(0, job.progress.step - SPLIT_WINDOW + 1), points: 10000});
    try {
      const m = await get('/jobs/' + id + '/metrics' + q);
      if (!disposed) addStagePoints(Object.fromEntries(m.series.map((s) => [s.name, s.points])));
    } catch (err) {
      if (!disposed) replace(errorBox, problemBox(err));
    }
  }

  function addStagePoints(byName) {
    let changed = false;
    for (const [name, points] of Object.entries(byName)) {
      if (!STAGE_METRIC.test(name)) continue;
      if (!stagePoints.has(name)) stagePoints.set(name, new Map());
      const byStep = stagePoints.get(name);
      for (const p of points) byStep.set(p.step, p.value);
      const steps = [...byStep.keys()].sort((a, b) => a - b);
      for (const old of steps.slice(0, Math.max(0, steps.length - SPLIT_WINDOW))) byStep.delete(old);
      changed = true;
    }
    if (changed) split.set(stageMeans());
  }

  function stageMeans() {
    let stages = 0;
    for (const name of stagePoints.keys()) stages = Math.max(stages, Number(STAGE_METRIC.exec(name)[1]) + 1);
    const mean = (name) => {
      const values = [...(stagePoints.get(name) || new Map()).values()];
      return values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
    };
    return Array.from({length: stages}, (_, s) => ({
      compute: mean('stage' + s + '.compute_seconds'),
      bubble: mean('stage' + s + '.bubble_seconds'),
      comm: mean('stage' + s + '.comm_seconds'),
    }));
  }

  function onMetrics(byName) {
    addStagePoints(byName);
    if (zoom) return;
    let most = 0;
    for (const c of charts) {
      for (const s of c.series) {
        if (byName[s.name]) most = Math.max(most, c.chart.append(s.name, scaled(c, byName[s.name])));
      }
    }
    if (most > MAX_LIVE_POINTS) {
      clearTimeout(refetchTimer);
      refetchTimer = setTimeout(loadMetrics, 1000);
    }
  }

  // --- events, attempts, checkpoints, logs
  async function loadEvents() {
    try {
      addEvents(await get('/jobs/' + id + '/events'));
    } catch (err) {
      replace(timeline, h('li', {}, problemBox(err)));
    }
  }

  function addEvents(list) {
    for (const e of list) {
      if (eventIds.has(e.id)) continue;
      eventIds.add(e.id);
      const li = h('li', {dataset: {eventId: e.id}},
        h('time', {datetime: e.at, title: fmt.when(e.at)}, fmt.clock(e.at)), ' ',
        e.fromState ? [badge(e.fromState), ' → '] : null, badge(e.toState), ' ',
        h('span', {class: 'reason'}, fmt.reason(e.reason)),
        e.message ? h('div', {class: 'muted'}, e.message) : null);
      const later = [...timeline.children].find((x) => Number(x.dataset.eventId) > e.id);
      timeline.insertBefore(li, later || null);
    }
  }

  async function loadAttempts() {
    try {
      const list = await get('/jobs/' + id + '/attempts');
      replace(attempts, table(['#', 'Runners', 'GPUs', 'State', 'Started', 'Ended', 'Cost', 'Resumed from'],
        list.map((a) => row([String(a.number), a.runners.join(', '), fmt.gpus(a.gpus),
          [a.state, a.endReason ? h('div', {class: 'muted'}, fmt.reason(a.endReason)) : null],
          fmt.when(a.startedAt), fmt.when(a.endedAt), fmt.money(a.costUsd),
          a.resumedFromCheckpoint ? 'checkpoint #' + a.resumedFromCheckpoint : '—'])), {empty: 'Not placed yet.'}));
    } catch (err) {
      replace(attempts, problemBox(err));
    }
  }

  async function loadCheckpoints() {
    try {
      const list = await get('/jobs/' + id + '/checkpoints');
      if (disposed) return;
      replace(checkpoints, table(['Step', 'Size', 'Eval loss', 'SHA-256', 'Created', ''],
        list.map((c) => row([fmt.steps(c.step), fmt.bytes(c.sizeBytes), c.evalLoss !== null && c.evalLoss !== undefined ? fmt.number(c.evalLoss) + ' nats' : '—',
          h('code', {class: 'sha', title: c.sha256}, c.sha256.slice(0, 16) + '…'), fmt.when(c.createdAt),
          checkpointDownloads(c)],
        {dataset: {checkpointId: c.id}})), {empty: 'No complete checkpoint yet.'}));
    } catch (err) {
      replace(checkpoints, problemBox(err));
    }
  }

  // A whole checkpoint is one file; a sharded one (one file per data-parallel rank) downloads shard by shard.
  function checkpointDownloads(c) {
    const base = (job ? job.name : 'job-' + id) + '-step' + c.step;
    const path = '/jobs/' + id + '/checkpoints/' + c.id + '/content';
    if (!(c.shardCount > 1)) {
      return h('button', {type: 'button', class: 'ghost download', dataset: {checkpointId: c.id, sha256: c.sha256},
        onclick: (e) => download(path, base + '.safetensors', e.currentTarget)}, 'Download');
    }
    return h('span', {}, ...c.shards.map((s) => h('button', {type: 'button', class: 'ghost download',
      title: 'Shard ' + s.shard + ' of ' + c.shardCount + ', SHA-256 ' + s.sha256,
      dataset: {checkpointId: c.id, shard: s.shard, sha256: s.sha256},
      onclick: (e) => download(path + '?shard=' + s.shard, base + '.shard-' + s.shard + '-of-' + c.shardCount + '.safetensors', e.currentTarget)},
    'Shard ' + s.shard)));
  }

  // The final export (weights and the config that rebuilds the model) appears once the job SUCCEEDED.
  async function loadExport() {
    try {
      const e = await get('/jobs/' + id + '/export');
      if (disposed) return;
      replace(exported, table(['File', 'Size', 'SHA-256', 'Created', ''],
        e.files.map((f) => row([h('code', {}, f.name), fmt.bytes(f.sizeBytes),
          h('code', {class: 'sha', title: f.sha256}, f.sha256.slice(0, 16) + '…'), fmt.when(f.createdAt),
          h('button', {type: 'button', class: 'ghost download', dataset: {exportFile: f.name, sha256: f.sha256},
            onclick: (ev) => download('/jobs/' + id + '/export/' + f.name, (job ? job.name : 'job-' + id) + '-' + f.name, ev.currentTarget)}, 'Download')],
        {dataset: {exportFile: f.name}})),
        {empty: 'The trained model (model.safetensors and config.json) is listed here once the job has succeeded.'}));
    } catch (err) {
      replace(exported, problemBox(err));
    }
  }

  async function download(path, filename, button) {
    button.disabled = true;
    const label = button.textContent;
    button.textContent = 'Downloading…';
    try {
      const data = await blob(path);
      const url = URL.createObjectURL(data);
      const a = h('a', {href: url, download: filename, hidden: true});
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (err) {
      replace(errorBox, problemBox(err));
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  }

  async function loadLogs() {
    try {
      addLogs(await get('/jobs/' + id + '/logs' + query({limit: 200})));
    } catch (err) {
      replace(logBox, String(err.message));
    }
  }

  function addLogs(lines) {
    const atBottom = logBox.scrollHeight - logBox.scrollTop - logBox.clientHeight < 24;
    for (const l of lines) {
      if (logIds.has(l.id)) continue;
      logIds.add(l.id);
      logBox.append(h('div', {class: 'log-line'}, h('span', {class: 'muted'}, fmt.clock(l.at) + ' '), l.line));
    }
    while (logBox.childElementCount > LOG_LINES) logBox.firstElementChild.remove();
    if (!logBox.childElementCount) logBox.textContent = '';
    if (atBottom) logBox.scrollTop = logBox.scrollHeight;
  }

  loadJob();
  loadMetrics();
  loadEvents();
  loadLogs();
  const sub = stream('/jobs/' + id + '/stream', (name, data) => {
    if (disposed) return;
    if (name === 'job') showJob(data);
    else if (name === 'event') addEvents([data]);
    else if (name === 'metrics') onMetrics(data);
    else if (name === 'log') addLogs(data);
    else if (name === 'reload') { loadJob(); loadEvents(); loadLogs(); loadSplit(); if (!zoom) loadMetrics(); }
  }, (s) => live.set(s));  // a broken stream resumes after its last event: what happened meanwhile follows

  return () => {
    disposed = true;
    sub.stop();
    clearInterval(checkpointTimer);
    clearTimeout(refetchTimer);
    charts.forEach((c) => c.chart.destroy());
    split.destroy();
    document.title = 'Trainyard';
  };
}

function modelText(spec) {
  const m = spec && spec.model;
  if (!m) return '—';
  if (m.type === 'gpt') return `GPT: ${m.layers} layers, dModel ${m.dModel}, ${m.heads} heads, ${m.seqLen} tokens`;
  if (m.type === 'mlp') return `MLP: ${m.inputs} → ${(m.hidden || []).join(' → ')} → ${m.outputs}`;
  return m.type;
}
