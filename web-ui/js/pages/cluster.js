// The cluster: pools with price and capacity, runners, and each pool's queue in order.
import {h, replace, table, row, badge} from '../dom.js';
import {get} from '../api.js';
import * as fmt from '../format.js';
import {problemBox, section, loading} from '../ui.js';

const REFRESH_MS = 5000;

export function render(main) {
  const pools = h('div', {id: 'pools'}, loading());
  const runners = h('div', {id: 'runners'}, loading());
  const queues = h('div', {id: 'queues'}, loading());
  const stamp = h('span', {class: 'muted'});
  main.append(h('div', {class: 'page-head'}, h('h1', {}, 'Cluster'), stamp),
    section('Pools', pools), section('Runners', runners), section('Queues', queues));

  let disposed = false;
  async function load() {
    try {
      const [poolList, runnerList] = await Promise.all([get('/pools'), get('/runners')]);
      const queueLists = await Promise.all(poolList.map((p) => get('/pools/' + encodeURIComponent(p.name) + '/queue')));
      if (disposed) return;
      replace(pools, table(['Pool', 'GPU type', 'Price', 'Peak per device', 'Runners', 'GPUs used', 'GPUs free', 'Usage'],
        poolList.map((p) => row([h('strong', {}, p.name), p.gpuType, fmt.money(p.pricePerGpuHour) + ' per GPU-hour',
          fmt.flops(p.peakFlopsPerDevice),
          fmt.count(p.runners), fmt.count(p.usedGpus) + ' of ' + fmt.gpus(p.totalGpus),
          fmt.gpus(Math.max(0, p.totalGpus - p.usedGpus)), usage(p.usedGpus, p.totalGpus)])),
        {empty: 'No pools yet.'}));
      replace(runners, table(['Runner', 'Pool', 'State', 'Devices', 'Last heartbeat', 'Running'],
        runnerList.map((r) => row([[h('strong', {}, r.name), h('div', {class: 'muted'}, r.host)], r.pool, badge(r.state),
          [fmt.count(r.usedGpus) + ' of ' + fmt.count(r.totalGpus) + ' in use',
            h('div', {class: 'muted'}, r.devices.map((d) => d.name + (d.memoryBytes ? ' (' + fmt.bytes(d.memoryBytes) + ')' : '')).join(', '))],
          h('span', {title: fmt.when(r.lastHeartbeatAt)}, fmt.ago(r.lastHeartbeatAt)),
          r.runningJobs.length ? r.runningJobs.map((id, i) => [i ? ', ' : '', h('a', {href: '#/jobs/' + id}, '#' + id)]) : 'idle'])),
        {empty: 'No runner has registered.'}));
      replace(queues, ...poolList.map((p, i) => h('div', {class: 'queue', dataset: {pool: p.name}},
        h('h3', {}, p.name, h('span', {class: 'muted'}, ' · ' + queueLists[i].length + ' waiting')),
        table(['#', 'Job', 'Project', 'Priority', 'GPUs', 'Why waiting', 'Estimated start', 'Waiting for'],
          queueLists[i].map((q) => row([String(q.position), h('a', {href: '#/jobs/' + q.jobId}, (q.name == null ? '' : q.name + ' ') + '#' + q.jobId), q.project,
            q.priority, fmt.gpus(q.gpus), [fmt.reason(q.reason), q.message ? h('div', {class: 'muted'}, q.message) : null],
            q.estimatedStartAt ? fmt.when(q.estimatedStartAt) : '—', fmt.age(q.submittedAt)])),
          {empty: 'Nothing waiting.'}))));
      stamp.textContent = 'Updated ' + fmt.clock(new Date().toISOString());
    } catch (err) {
      if (!disposed) replace(pools, problemBox(err));
    }
  }

  load();
  const timer = setInterval(load, REFRESH_MS);
  return () => {
    disposed = true;
    clearInterval(timer);
  };
}

function usage(used, total) {
  const pct = total > 0 ? (100 * used) / total : 0;
  return h('div', {class: 'bar small', title: Math.round(pct) + ' % in use'}, h('span', {style: {width: pct.toFixed(1) + '%'}}));
}
