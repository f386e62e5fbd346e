// The job table: filters, search, pages, and live updates from /stream/jobs.
import {h, replace, badge} from '../dom.js';
import {get, query, stream} from '../api.js';
import * as fmt from '../format.js';
import {problemBox, progressBar, eta, costText, liveDot} from '../ui.js';

const HEADERS = ['Name', 'Project', 'State', 'Pool', 'GPUs', 'Priority', 'Progress', 'Cost (USD)', 'Age'];

export function render(main, {params}) {
  const filters = {
    state: params.get('state') || '',
    project: params.get('project') || '',
    pool: params.get('pool') || '',
    name: params.get('name') || '',
    limit: params.get('limit') || '25',
  };
  let cursors = [''];
  let nextCursor = null;
  const rows = new Map();
  const progress = new Map();
  let loadSeq = 0;
  // jobs the stream announced while a page was loading: the page may predate them, so they are applied again
  let heardWhileLoading = null;

  const live = liveDot();
  const tbody = h('tbody', {});
  const status = h('div', {class: 'table-status'});
  const pageInfo = h('span', {class: 'muted'});
  const prev = h('button', {type: 'button', class: 'ghost', onclick: () => { cursors.pop(); load(); }}, '← Newer');
  const next = h('button', {type: 'button', class: 'ghost', onclick: () => { cursors.push(nextCursor); load(); }}, 'Older →');

  const stateSel = h('select', {id: 'filter-state', name: 'state', onchange: () => setFilter('state', stateSel.value)},
    h('option', {value: ''}, 'All states'),
    fmt.STATES.map((s) => h('option', {value: s, selected: filters.state === s}, fmt.reason(s))));
  const projectSel = h('select', {id: 'filter-project', name: 'project', onchange: () => setFilter('project', projectSel.value)},
    h('option', {value: ''}, 'All projects'), filters.project ? h('option', {value: filters.project, selected: true}, filters.project) : null);
  const poolSel = h('select', {id: 'filter-pool', name: 'pool', onchange: () => setFilter('pool', poolSel.value)},
    h('option', {value: ''}, 'All pools'), filters.pool ? h('option', {value: filters.pool, selected: true}, filters.pool) : null);
  let searchTimer;
  const search = h('input', {type: 'search', id: 'filter-name', name: 'name', placeholder: 'Search by name', value: filters.name,
    oninput: () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => setFilter('name', search.value.trim()), 300); }});
  const limitSel = h('select', {id: 'filter-limit', 'aria-label': 'Jobs per page', onchange: () => setFilter('limit', limitSel.value)},
    [...new Set(['10', '25', '50', '100', filters.limit])].sort((a, b) => a - b)
      .map((n) => h('option', {value: n, selected: filters.limit === n}, n + ' per page')));

  main.append(
    h('div', {class: 'page-head'}, h('h1', {}, 'Jobs'), live, h('a', {href: '#/submit', class: 'button primary'}, 'Submit a job')),
    h('div', {class: 'filters card'},
      h('label', {class: 'filter'}, h('span', {}, 'State'), stateSel),
      h('label', {class: 'filter'}, h('span', {}, 'Project'), projectSel),
      h('label', {class: 'filter'}, h('span', {}, 'Pool'), poolSel),
      h('label', {class: 'filter grow'}, h('span', {}, 'Name'), search)),
    status,
    h('div', {class: 'table-wrap'}, h('table', {class: 'data jobs', id: 'jobs-table'},
      h('thead', {}, h('tr', {}, HEADERS.map((x) => h('th', {scope: 'col'}, x)))), tbody)),
    h('div', {class: 'pager'}, prev, pageInfo, next, limitSel));

  Promise.all([get('/projects').catch(() => []), get('/pools').catch(() => [])]).then(([projects, pools]) => {
    for (const p of projects) if (p.name !== filters.project) projectSel.append(h('option', {value: p.name}, p.name));
    for (const p of pools) if (p.name !== filters.pool) poolSel.append(h('option', {value: p.name}, p.name));
  });

  function setFilter(key, value) {
    filters[key] = value;
    cursors = [''];
    const q = query({state: filters.state, project: filters.project, pool: filters.pool, name: filters.name,
      limit: filters.limit === '25' ? '' : filters.limit});
    history.replaceState(null, '', '#/jobs' + q);
    load();
  }

  function matches(job) {
    return (!filters.state || job.state === filters.state) && (!filters.project || job.project === filters.project)
      && (!filters.pool || job.pool === filters.pool) && (!filters.name || job.name.includes(filters.name));
  }

  async function load() {
    const seq = ++loadSeq;
    const cursor = cursors[cursors.length - 1];
    heardWhileLoading = [];
    try {
      const page = await get('/jobs' + query({state: filters.state, project: filters.project, pool: filters.pool,
        name: filters.name, limit: filters.limit, cursor}));
      if (seq !== loadSeq) return;
      status.replaceChildren();
      nextCursor = page.nextCursor || null;
      rows.clear();
      tbody.replaceChildren();
      for (const job of page.items) tbody.append(rowFor(job));
      if (!page.items.length) {
        tbody.append(h('tr', {class: 'empty-row'}, h('td', {colspan: HEADERS.length, class: 'empty'},
          filters.state || filters.project || filters.pool || filters.name ? 'No job matches these filters.' : 'No jobs yet. Submit one!')));
      }
      prev.disabled = cursors.length <= 1;
      next.disabled = !nextCursor;
      pageInfo.textContent = 'Page ' + cursors.length;
      const heard = heardWhileLoading;
      heardWhileLoading = null;
      // only jobs missing from the page: for the others the page is as new as what was heard, or newer
      heard.filter((job) => !rows.has(job.id)).forEach(onJob);
    } catch (err) {
      if (seq === loadSeq) {
        heardWhileLoading = null;
        replace(status, problemBox(err));
      }
    }
  }

  function rowFor(job) {
    const p = progress.get(job.id);
    const step = p && p.step > job.progress.step ? p.step : job.progress.step;
    const cost = p && p.accruedUsd !== null && p.accruedUsd !== undefined ? {...job.cost, accruedUsd: p.accruedUsd} : job.cost;
    const why = job.pending ? [fmt.reason(job.pending.reason), job.pending.message ? ': ' + job.pending.message : '',
      job.pending.queuePosition ? ' (#' + job.pending.queuePosition + ' in queue)' : ''].join('') : (job.stateReason ? fmt.reason(job.stateReason) : '');
    const tr = h('tr', {dataset: {jobId: job.id, state: job.state}},
      h('td', {class: 'name'}, h('a', {href: '#/jobs/' + job.id}, job.name), h('small', {class: 'muted'}, ' #' + job.id)),
      h('td', {}, job.project),
      h('td', {class: 'state'}, badge(job.state), job.cancelRequested && !fmt.TERMINAL.has(job.state) ? h('small', {class: 'muted'}, ' cancelling') : null,
        why ? h('div', {class: 'reason', title: why}, why) : null),
      h('td', {}, job.pool || (job.gpuType ? 'any ' + job.gpuType : '—')),
      h('td', {class: 'num'}, job.gpus === job.minGpus ? String(job.gpus) : job.minGpus + '–' + job.gpus),
      h('td', {}, job.priority),
      h('td', {class: 'progress-cell'}, progressBar(step, job.progress.totalSteps, eta(job, step))),
      h('td', {class: 'num cost'}, costText(cost)),
      h('td', {class: 'age', title: 'Submitted ' + fmt.when(job.submittedAt), dataset: {since: job.submittedAt}}, fmt.age(job.submittedAt)));
    [...tr.cells].forEach((td, i) => (td.dataset.label = HEADERS[i]));
    const old = rows.get(job.id);
    rows.set(job.id, {job, tr});
    if (old && old.tr.parentNode) old.tr.replaceWith(tr);
    return tr;
  }

  function onJob(job) {
    heardWhileLoading?.push(job);
    const known = rows.get(job.id);
    if (known) {
      if (matches(job)) rowFor(job);
      else { known.tr.remove(); rows.delete(job.id); }
    } else if (cursors.length === 1 && matches(job) && job.id > newestShown()) {
      tbody.querySelector('.empty-row')?.remove();
      tbody.prepend(rowFor(job));
      const limit = Number(filters.limit);
      while (tbody.rows.length > limit) {
        const last = tbody.rows[tbody.rows.length - 1];
        rows.delete(Number(last.dataset.jobId));
        last.remove();
      }
    }
  }

  function newestShown() {
    return rows.size ? Math.max(...rows.keys()) : 0;
  }

  function onProgress(list) {
    for (const p of list) {
      progress.set(p.jobId, p);
      const known = rows.get(p.jobId);
      if (known) rowFor(known.job);
    }
  }

  load();
  // a broken stream resumes after the last event it delivered, so changes made meanwhile still arrive as `job`
  // events; only when it cannot resume (`reload`) is the page read again
  const sub = stream('/stream/jobs', (name, data) => {
    if (name === 'job') onJob(data);
    else if (name === 'progress') onProgress(data);
    else if (name === 'reload') load();
  }, (s) => live.set(s));
  const ticker = setInterval(() => {
    tbody.querySelectorAll('td.age').forEach((td) => (td.textContent = fmt.age(td.dataset.since)));
  }, 5000);
  return () => {
    sub.stop();
    clearInterval(ticker);
    clearTimeout(searchTimer);
  };
}
