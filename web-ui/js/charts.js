// Line charts on Chart.js (served from its WebJar) with drag-to-zoom over a step range.
import {h} from './dom.js';

const PALETTE = ['--series-1', '--series-2', '--series-3'];
const TEXT = {empty: 'No points yet'};

function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/**
 * A chart of one or more metric series over steps. opts: {title, unit, series: [{name, label}], format(v),
 * onZoom(fromStep, toStep), emptyText (shown while there are no points)}. Returns {el, set(seriesByName), append(name, points), clear(), destroy()}.
 */
export function lineChart(opts) {
  if (!window.Chart) return unavailable(opts);
  const canvas = h('canvas', {role: 'img', 'aria-label': opts.title + ' over steps'});
  const band = h('div', {class: 'zoom-band', hidden: true});
  const empty = h('div', {class: 'chart-empty'}, opts.emptyText || TEXT.empty);
  const counter = h('span', {class: 'muted chart-count'});
  const el = h('figure', {class: 'chart card', dataset: {chart: opts.id}},
    h('figcaption', {}, h('strong', {}, opts.title), h('span', {class: 'muted'}, ' (' + opts.unit + ')'), counter),
    h('div', {class: 'chart-box'}, canvas, band, empty));
  const data = new Map(opts.series.map((s) => [s.name, []]));

  const chart = new window.Chart(canvas, {
    type: 'line',
    data: {datasets: opts.series.map((s) => ({label: s.label, data: data.get(s.name), parsing: false, pointRadius: 0,
      borderWidth: 1.5, tension: 0, spanGaps: true}))},
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      normalized: true,
      interaction: {mode: 'nearest', axis: 'x', intersect: false},
      scales: {
        x: {type: 'linear', title: {display: true, text: 'step'}, ticks: {precision: 0}},
        y: {title: {display: true, text: opts.unit}, ticks: opts.tickFormat ? {callback: (v) => opts.tickFormat(v)} : {}},
      },
      plugins: {
        legend: {display: opts.series.length > 1, labels: {boxWidth: 12}},
        tooltip: {callbacks: {
          title: (items) => (items.length ? 'step ' + items[0].parsed.x : ''),
          label: (item) => item.dataset.label + ': ' + opts.format(item.parsed.y) + ' ' + opts.unit,
        }},
      },
    },
  });
  applyTheme();

  function applyTheme() {
    const text = css('--muted');
    const grid = css('--grid');
    opts.series.forEach((s, i) => {
      const color = css(PALETTE[i % PALETTE.length]);
      chart.data.datasets[i].borderColor = color;
      chart.data.datasets[i].backgroundColor = color;
    });
    for (const axis of Object.values(chart.options.scales)) {
      axis.ticks.color = text;
      axis.title.color = text;
      axis.grid = {color: grid};
      axis.border = {color: grid};
    }
    chart.options.plugins.legend.labels.color = text;
    chart.update('none');
  }
  const onTheme = () => applyTheme();
  window.addEventListener('themechange', onTheme);

  function refresh() {
    const n = [...data.values()].reduce((a, pts) => a + pts.length, 0);
    empty.hidden = n > 0;
    counter.textContent = n ? ' · ' + n + ' points' : '';
    el.dataset.points = String(n);
    chart.update('none');
  }

  // --- drag to select a step range
  let startX = null;
  canvas.addEventListener('pointerdown', (e) => {
    if (e.button !== 0 || !chart.scales.x) return;
    startX = e.offsetX;
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (startX === null) return;
    const left = Math.min(startX, e.offsetX);
    const width = Math.abs(e.offsetX - startX);
    band.hidden = width < 3;
    band.style.left = left + 'px';
    band.style.width = width + 'px';
  });
  const finish = (e) => {
    if (startX === null) return;
    const x0 = Math.min(startX, e.offsetX);
    const x1 = Math.max(startX, e.offsetX);
    startX = null;
    band.hidden = true;
    if (x1 - x0 < 6) return;
    const scale = chart.scales.x;
    const from = Math.max(0, Math.floor(scale.getValueForPixel(x0)));
    const to = Math.ceil(scale.getValueForPixel(x1));
    if (to > from) opts.onZoom(from, to);
  };
  canvas.addEventListener('pointerup', finish);
  canvas.addEventListener('pointercancel', () => { startX = null; band.hidden = true; });

  return {
    el,
    /** Replaces every series; points are [{step, value}]. */
    set(byName) {
      for (const [name, pts] of data) {
        pts.length = 0;
        for (const p of byName[name] || []) pts.push({x: p.step, y: p.value});
      }
      refresh();
    },
    /** Adds points after the last step already shown. */
    append(name, points) {
      const pts = data.get(name);
      if (!pts) return 0;
      const last = pts.length ? pts[pts.length - 1].x : -Infinity;
      let added = 0;
      for (const p of points) {
        if (p.step > last) { pts.push({x: p.step, y: p.value}); added++; }
      }
      if (added) refresh();
      return pts.length;
    },
    /** Shows only this step range on the x axis (both null: everything). */
    setRange(from, to) {
      chart.options.scales.x.min = from === null ? undefined : from;
      chart.options.scales.x.max = to === null ? undefined : to;
      chart.update('none');
    },
    destroy() {
      window.removeEventListener('themechange', onTheme);
      chart.destroy();
    },
  };
}

/**
 * Where each pipeline stage's step time goes: one stacked bar per stage (compute, bubble, communication, in
 * seconds). opts: {title, format(v)}. Returns {el, set(stages), destroy()}, stages being
 * [{compute, bubble, comm}] in stage order, each already averaged by the caller.
 */
export function stageSplitChart(opts) {
  const parts = [{key: 'compute', label: 'compute'}, {key: 'bubble', label: 'bubble (waiting for a neighbour)'},
    {key: 'comm', label: 'communication'}];
  if (!window.Chart) {
    return {...unavailable({id: 'stage-split', title: opts.title, unit: 's per step'}), set() {}};
  }
  const canvas = h('canvas', {role: 'img', 'aria-label': opts.title});
  const empty = h('div', {class: 'chart-empty'}, opts.emptyText || TEXT.empty);
  const el = h('figure', {class: 'chart card', dataset: {chart: 'stage-split', stages: '0'}},
    h('figcaption', {}, h('strong', {}, opts.title), h('span', {class: 'muted'}, ' (s per step)')),
    h('div', {class: 'chart-box'}, canvas, empty));
  const chart = new window.Chart(canvas, {
    type: 'bar',
    data: {labels: [], datasets: parts.map((p) => ({label: p.label, data: [], borderWidth: 0}))},
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true, title: {display: true, text: 's per step'}}},
      plugins: {
        legend: {labels: {boxWidth: 12}},
        tooltip: {callbacks: {label: (item) => item.dataset.label + ': ' + opts.format(item.parsed.y) + ' s'}},
      },
    },
  });
  function applyTheme() {
    const text = css('--muted');
    const grid = css('--grid');
    parts.forEach((p, i) => {
      chart.data.datasets[i].backgroundColor = css(PALETTE[i % PALETTE.length]);
    });
    for (const axis of Object.values(chart.options.scales)) {
      axis.ticks = {...(axis.ticks || {}), color: text};
      if (axis.title) axis.title.color = text;
      axis.grid = {color: grid};
      axis.border = {color: grid};
    }
    chart.options.plugins.legend.labels.color = text;
    chart.update('none');
  }
  applyTheme();
  const onTheme = () => applyTheme();
  window.addEventListener('themechange', onTheme);
  return {
    el,
    set(stages) {
      chart.data.labels = stages.map((_, s) => 'stage ' + s);
      parts.forEach((p, i) => { chart.data.datasets[i].data = stages.map((st) => st[p.key]); });
      empty.hidden = stages.length > 0;
      el.dataset.stages = String(stages.length);
      el.dataset.seconds = String(stages.reduce((a, st) => a + st.compute + st.bubble + st.comm, 0));
      chart.update('none');
    },
    destroy() {
      window.removeEventListener('themechange', onTheme);
      chart.destroy();
    },
  };
}

/** Without Chart.js (its WebJar missing from the server) the page still works, with a note where charts go. */
function unavailable(opts) {
  const el = h('figure', {class: 'chart card', dataset: {chart: opts.id, points: '0'}},
    h('figcaption', {}, h('strong', {}, opts.title), h('span', {class: 'muted'}, ' (' + opts.unit + ')')),
    h('p', {class: 'muted'}, 'Charts are unavailable: the chart library did not load.'));
  return {el, set() {}, append() { return 0; }, setRange() {}, destroy() {}};
}
