// Submit a job: a form from templates or a raw JSON editor, the dry-run plan, then the submission.
import {h, replace, field, table, row} from '../dom.js';
import {get, post, session} from '../api.js';
import * as fmt from '../format.js';
import {problemBox, showFieldErrors, clearFieldErrors, flash, section} from '../ui.js';
import {TEMPLATES, getPath, setPath} from '../templates.js';

const INT = 'int';
const NUM = 'num';

/** The form's inputs, each bound to a path of the spec; `when` hides those of another model or data type. */
const GROUPS = [
  ['Job', [
    {path: 'name', label: 'Name', hint: 'letters, digits, . _ -'},
    {path: 'project', label: 'Project', kind: 'project'},
    {path: 'priority', label: 'Priority', options: ['low', 'normal', 'high', 'urgent']},
  ]],
  ['Resources and limits', [
    {path: 'resources.pool', label: 'Pool', kind: 'pool'},
    {path: 'resources.gpus', label: 'GPUs', type: INT, unit: 'devices'},
    {path: 'resources.minGpus', label: 'Minimum GPUs', type: INT, unit: 'devices', hint: 'elastic; empty = GPUs'},
    {path: 'limits.maxCostUsd', label: 'Cost limit', type: NUM, unit: 'USD'},
    {path: 'limits.maxRuntimeSeconds', label: 'Runtime limit', type: INT, unit: 's'},
    {path: 'limits.maxRestarts', label: 'Restarts', type: INT},
  ]],
  ['Model', [
    {path: 'model.type', label: 'Model', options: ['gpt', 'mlp'], onchange: 'model'},
    {path: 'model.layers', label: 'Layers', type: INT, when: (s) => s.model?.type === 'gpt'},
    {path: 'model.dModel', label: 'Width (dModel)', type: INT, when: (s) => s.model?.type === 'gpt'},
    {path: 'model.heads', label: 'Attention heads', type: INT, when: (s) => s.model?.type === 'gpt'},
    {path: 'model.seqLen', label: 'Sequence length', type: INT, unit: 'tokens', when: (s) => s.model?.type === 'gpt'},
    {path: 'model.vocab', label: 'Vocabulary', type: INT, unit: 'tokens', when: (s) => s.model?.type === 'gpt'},
    {path: 'model.dropout', label: 'Dropout', type: NUM, when: (s) => s.model?.type === 'gpt'},
    {path: 'model.inputs', label: 'Inputs', type: INT, unit: 'features', when: (s) => s.model?.type === 'mlp'},
    {path: 'model.hidden', label: 'Hidden widths', type: 'list', hint: 'comma-separated, e.g. 64, 64', when: (s) => s.model?.type === 'mlp'},
    {path: 'model.outputs', label: 'Outputs', type: INT, when: (s) => s.model?.type === 'mlp'},
    {path: 'model.task', label: 'Task', options: ['classification', 'regression'], when: (s) => s.model?.type === 'mlp'},
  ]],
  ['Data', [
    {path: 'data.type', label: 'Data', options: ['arithmetic', 'synthetic-tabular', 'text', 'jsonl', 'csv']},
    {path: 'data.uri', label: 'URI', when: (s) => ['text', 'jsonl', 'csv'].includes(s.data?.type)},
    {path: 'data.rows', label: 'Rows', type: INT, when: (s) => s.data?.type === 'synthetic-tabular'},
    {path: 'data.seed', label: 'Data seed', type: INT, when: (s) => ['arithmetic', 'synthetic-tabular'].includes(s.data?.type)},
    {path: 'data.evalFraction', label: 'Eval fraction', type: NUM, hint: '0 to 1'},
  ]],
  ['Training', [
    {path: 'training.steps', label: 'Steps', type: INT, unit: 'steps'},
    {path: 'training.batchSize', label: 'Batch size', type: INT, unit: 'samples'},
    {path: 'training.learningRate', label: 'Learning rate', type: NUM},
    {path: 'training.evalEvery', label: 'Evaluate every', type: INT, unit: 'steps'},
    {path: 'training.seed', label: 'Seed', type: INT},
    {path: 'training.precision', label: 'Precision', options: ['fp32', 'bf16']},
  ]],
  ['Parallelism and checkpoints', [
    {path: 'parallelism.microBatches', label: 'Micro-batches', type: INT},
    {path: 'parallelism.schedule', label: 'Pipeline schedule', options: ['1f1b', 'gpipe']},
    {path: 'parallelism.balance', label: 'Stage balance', options: ['time', 'params'],
      hint: 'time: measured per block; params: by parameter count'},
    {path: 'checkpoint.everySteps', label: 'Checkpoint every', type: INT, unit: 'steps'},
    {path: 'checkpoint.keepLast', label: 'Keep last', type: INT, unit: 'checkpoints'},
  ]],
];

export function render(main) {
  const idempotencyKey = crypto.randomUUID();
  const defaults = {project: session.me?.project || 'demo', pool: ''};
  let spec = TEMPLATES.gpt.spec(defaults);
  let mode = 'form';
  let planTimer;
  let planSeq = 0;
  let disposed = false;
  let ready = false;
  const inputs = new Map();

  const planBox = h('div', {class: 'plan', id: 'plan', 'aria-live': 'polite'}, h('p', {class: 'muted'}, 'The plan appears here.'));
  const submitOut = h('div', {class: 'submit-result', id: 'submit-result'});
  const jsonArea = h('textarea', {id: 'spec-json', class: 'json', spellcheck: 'false', rows: 30, 'aria-label': 'Job spec as JSON',
    oninput: onJsonInput});
  const jsonError = h('small', {class: 'field-error', id: 'json-error'});
  const formEl = h('form', {id: 'submit-form', class: 'spec-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); submit(); }});
  const jsonPane = h('div', {class: 'json-pane', hidden: true}, jsonArea, jsonError);
  const templateSel = h('select', {id: 'template', 'aria-label': 'Template', onchange: () => applyTemplate(templateSel.value)},
    Object.entries(TEMPLATES).map(([k, t]) => h('option', {value: k}, t.label)));
  const tabForm = h('button', {type: 'button', class: 'tab active', 'aria-pressed': 'true', onclick: () => setMode('form')}, 'Form');
  const tabJson = h('button', {type: 'button', class: 'tab', id: 'tab-json', 'aria-pressed': 'false', onclick: () => setMode('json')}, 'JSON');
  const submitBtn = h('button', {type: 'submit', form: 'submit-form', class: 'primary', id: 'submit-job'}, 'Submit job');

  for (const [title, fields] of GROUPS) {
    formEl.append(h('fieldset', {}, h('legend', {}, title), h('div', {class: 'grid'}, fields.map((f) => {
      const input = makeInput(f);
      inputs.set(f.path, {f, input});
      return field(f.label, input, {path: f.path, unit: f.unit, hint: f.hint});
    }))));
  }
  formEl.append(h('div', {class: 'orphan-errors', id: 'form-errors'}));

  main.append(
    h('div', {class: 'page-head'}, h('h1', {}, 'Submit a job'),
      h('label', {class: 'filter'}, h('span', {}, 'Template'), templateSel),
      h('div', {class: 'tabs', role: 'group', 'aria-label': 'Editor'}, tabForm, tabJson)),
    h('div', {class: 'submit-layout'},
      h('div', {class: 'card editor'}, formEl, jsonPane),
      h('aside', {class: 'card side'}, h('h2', {}, 'Dry-run plan'), planBox, h('div', {class: 'actions'}, submitBtn), submitOut)));

  Promise.all([get('/projects').catch(() => []), get('/pools').catch(() => [])]).then(([projects, pools]) => {
    if (disposed) return;
    fillOptions(inputs.get('project').input, projects.map((p) => p.name));
    fillOptions(inputs.get('resources.pool').input, pools.map((p) => p.name));
    if (!projects.some((p) => p.name === spec.project) && projects.length) spec.project = projects[0].name;
    if (!spec.resources.pool && pools.length) spec.resources.pool = pools[0].name;
    defaults.project = spec.project;
    defaults.pool = spec.resources.pool;
    ready = true;
    syncForm();
    schedulePlan(0);
  });

  function makeInput(f) {
    let input;
    if (f.options || f.kind) {
      input = h('select', {name: f.path}, (f.options || []).map((o) => h('option', {value: o}, o)));
    } else {
      input = h('input', {name: f.path, type: f.type === INT || f.type === NUM ? 'number' : 'text',
        step: f.type === NUM ? 'any' : f.type === INT ? '1' : null, autocomplete: 'off', spellcheck: 'false'});
    }
    input.addEventListener(input.tagName === 'SELECT' ? 'change' : 'input', () => onFieldInput(f, input));
    return input;
  }

  function fillOptions(select, names) {
    const current = select.value;
    select.replaceChildren(...names.map((n) => h('option', {value: n}, n)));
    if (names.includes(current)) select.value = current;
  }

  function onFieldInput(f, input) {
    const raw = input.value.trim();
    let value;
    if (raw === '') value = undefined;
    else if (f.type === INT || f.type === NUM) value = Number(raw);
    else if (f.type === 'list') value = raw.split(/[\s,]+/).filter(Boolean).map(Number);
    else value = raw;
    if (f.onchange === 'model' && value !== getPath(spec, 'model.type')) {
      const t = TEMPLATES[value].spec(defaults);
      spec.model = t.model;
      spec.data = t.data;
    } else {
      setPath(spec, f.path, value);
    }
    if (f.onchange === 'model' || f.path === 'data.type') syncForm();
    else syncVisibility();
    jsonArea.value = JSON.stringify(spec, null, 2);
    schedulePlan();
  }

  function syncForm() {
    for (const {f, input} of inputs.values()) {
      const v = getPath(spec, f.path);
      if (input.tagName === 'SELECT' && v !== undefined && ![...input.options].some((o) => o.value === String(v))) {
        input.append(h('option', {value: String(v)}, String(v)));
      }
      input.value = v === undefined || v === null ? '' : Array.isArray(v) ? v.join(', ') : String(v);
    }
    syncVisibility();
    jsonArea.value = JSON.stringify(spec, null, 2);
  }

  function syncVisibility() {
    for (const {f, input} of inputs.values()) {
      const wrap = input.closest('.field');
      if (wrap) wrap.hidden = f.when ? !f.when(spec) : false;
    }
  }

  function applyTemplate(key) {
    spec = TEMPLATES[key].spec(defaults);
    syncForm();
    clearFieldErrors(formEl);
    schedulePlan(0);
  }

  function setMode(m) {
    mode = m;
    formEl.hidden = m !== 'form';
    jsonPane.hidden = m !== 'json';
    tabForm.classList.toggle('active', m === 'form');
    tabJson.classList.toggle('active', m === 'json');
    tabForm.setAttribute('aria-pressed', String(m === 'form'));
    tabJson.setAttribute('aria-pressed', String(m === 'json'));
    if (m === 'json') jsonArea.value = JSON.stringify(spec, null, 2);
    else syncForm();
  }

  function onJsonInput() {
    try {
      const parsed = JSON.parse(jsonArea.value);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('The spec must be a JSON object');
      spec = parsed;
      jsonError.textContent = '';
      schedulePlan();
    } catch (e) {
      jsonError.textContent = 'Not valid JSON: ' + e.message;
    }
  }

  /** Plans once the projects and pools are known, so that a template never goes out without its pool. */
  function schedulePlan(delay = 400) {
    if (!ready) return;
    clearTimeout(planTimer);
    planTimer = setTimeout(plan, delay);
  }

  async function plan() {
    const seq = ++planSeq;
    replace(planBox, h('p', {class: 'muted loading'}, 'Planning…'));
    try {
      const p = await post('/jobs:plan', spec);
      if (seq !== planSeq || disposed) return;
      clearFieldErrors(formEl);
      replace(formEl.querySelector('#form-errors'));
      replace(planBox, planView(p));
    } catch (err) {
      if (seq !== planSeq || disposed) return;
      replace(planBox, errorsFor(err));
    }
  }

  /** Field errors go next to their fields (form mode); the rest, and all in JSON mode, into a problem box. */
  function errorsFor(err) {
    const orphans = mode === 'form' ? showFieldErrors(formEl, err.errors) : err.errors;
    if (err.errors.length && !orphans.length) {
      return h('div', {class: 'problem', role: 'alert'}, h('strong', {}, err.problem.title || 'Not valid'),
        h('p', {}, 'See the highlighted fields.'));
    }
    return problemBox({problem: {...err.problem, errors: orphans}});
  }

  async function submit() {
    submitOut.replaceChildren();
    if (mode === 'json' && jsonError.textContent) {
      submitOut.append(problemBox({problem: {title: 'Fix the JSON first', detail: jsonError.textContent}}));
      return;
    }
    submitBtn.disabled = true;
    try {
      const job = await post('/jobs', spec, {'Idempotency-Key': idempotencyKey});
      flash('Job ' + job.name + ' #' + job.id + ' submitted.', 'ok');
      location.hash = '#/jobs/' + job.id;
    } catch (err) {
      submitOut.append(errorsFor(err));
      submitBtn.disabled = false;
    }
  }

  syncForm();
  return () => {
    disposed = true;
    clearTimeout(planTimer);
  };
}

function planView(p) {
  const warnings = p.warnings || [];
  return h('div', {},
    h('dl', {class: 'facts'},
      h('dt', {}, 'Pool'), h('dd', {id: 'plan-pool'}, p.chosenPool || h('span', {class: 'bad'}, 'no pool fits')),
      h('dt', {}, 'Worst-case cost'), h('dd', {id: 'plan-cost'}, fmt.money(p.worstCaseCostUsd)),
      h('dt', {}, 'Parameters'), h('dd', {id: 'plan-params'}, fmt.count(p.parameterCount) + ' parameters'),
      h('dt', {}, 'Pipeline stages'), h('dd', {}, fmt.count(p.stages) + ' stages'),
      h('dt', {}, 'Memory per stage'), h('dd', {}, (p.memoryPerStageBytes || []).map((b) => fmt.mib(b)).join(', ') || '—'),
      h('dt', {}, 'Fullest device'), h('dd', {}, p.memoryPerDeviceBytes ? fmt.mib(p.memoryPerDeviceBytes) : '—'),
      // the requested layout fits no runner: the smallest one that does, in the spec's own fields
      p.proposal ? h('dt', {}, 'Layout that fits') : null,
      p.proposal ? h('dd', {id: 'plan-proposal'}, 'pool ' + p.proposal.pool + ': tensorParallel ' + p.proposal.tensorParallel
        + ', stages ' + p.proposal.stages + ', dataParallel ' + p.proposal.dataParallel + ', zero ' + p.proposal.zero
        + ', gpus ' + p.proposal.gpus + (p.proposal.multiNode ? ', multiNode' : '')
        + ' (' + fmt.mib(p.proposal.perDeviceBytes) + ' per device)') : null),
    warnings.length ? h('ul', {class: 'warnings'}, warnings.map((w) => h('li', {}, w))) : null,
    table(['Pool', 'Price', 'Free / total', 'Fits'], (p.pools || []).map((f) => row([
      f.pool + ' (' + f.gpuType + ')',
      fmt.money(f.pricePerGpuHour) + ' per GPU-hour',
      fmt.count(f.freeGpus) + ' / ' + fmt.gpus(f.totalGpus),
      f.fits ? h('span', {class: 'ok'}, 'yes') : h('span', {class: 'bad', title: f.reason || ''}, 'no' + (f.reason ? ': ' + f.reason : '')),
    ])), {empty: 'No pool matches.'}));
}
