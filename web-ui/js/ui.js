// Shared pieces of the pages: problem boxes, field errors, flash messages, progress bars.
import {h, replace} from './dom.js';
import * as fmt from './format.js';

/** A box showing an API problem: title, detail and every field error. */
export function problemBox(err) {
  const p = (err && err.problem) || {title: String((err && err.message) || err)};
  return h('div', {class: 'problem', role: 'alert'},
    h('strong', {}, p.title || 'Error'),
    p.status ? h('span', {class: 'muted'}, ' (HTTP ' + p.status + ')') : null,
    p.detail && p.detail !== p.title ? h('p', {}, p.detail) : null,
    p.errors && p.errors.length
      ? h('ul', {}, p.errors.map((e) => h('li', {}, h('code', {}, e.field), ': ', e.message)))
      : null,
    p.type ? h('small', {class: 'muted problem-type'}, p.type) : null);
}

/** Puts each errors[] entry next to the input whose data-field is its path; returns those that had no field. */
export function showFieldErrors(container, errors) {
  clearFieldErrors(container);
  const orphans = [];
  for (const e of errors || []) {
    const slot = container.querySelector(`[data-error-for="${CSS.escape(e.field)}"]`);
    if (!slot) {
      orphans.push(e);
      continue;
    }
    slot.textContent = slot.textContent ? slot.textContent + '; ' + e.message : e.message;
    const input = container.querySelector(`[data-field="${CSS.escape(e.field)}"]`);
    if (input) input.setAttribute('aria-invalid', 'true');
    slot.closest('.field')?.classList.add('invalid');
  }
  return orphans;
}

export function clearFieldErrors(container) {
  container.querySelectorAll('[data-error-for]').forEach((s) => (s.textContent = ''));
  container.querySelectorAll('[aria-invalid]').forEach((i) => i.removeAttribute('aria-invalid'));
  container.querySelectorAll('.field.invalid').forEach((f) => f.classList.remove('invalid'));
}

let flashTimer;
/** A short message at the top of the page. */
export function flash(message, kind = 'info') {
  const el = document.getElementById('flash');
  replace(el, h('div', {class: 'flash-msg ' + kind}, message));
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => el.replaceChildren(), 6000);
}

/** A progress bar with "step / total steps" and an ETA when known. */
export function progressBar(step, total, etaSeconds) {
  const pct = total > 0 ? Math.min(100, (100 * step) / total) : 0;
  return h('div', {class: 'progress', title: fmt.count(step) + ' of ' + fmt.steps(total)},
    h('div', {class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': total || 0, 'aria-valuenow': step || 0},
      h('span', {style: {width: pct.toFixed(1) + '%'}})),
    h('small', {}, fmt.count(step) + ' / ' + fmt.steps(total),
      etaSeconds !== null && etaSeconds !== undefined && Number.isFinite(etaSeconds) ? ' · ETA ' + fmt.duration(etaSeconds) : ''));
}

/** Seconds left from the pace since the job started, or null when unknown. */
export function eta(job, step) {
  if (!job || job.state !== 'RUNNING' || !job.startedAt || !step) return null;
  const total = job.progress.totalSteps;
  const elapsed = (Date.now() - new Date(job.startedAt).getTime()) / 1000;
  if (elapsed <= 0 || step >= total) return null;
  return ((total - step) * elapsed) / step;
}

/** "accrued / limit" in USD. */
export function costText(cost) {
  if (!cost) return '—';
  return fmt.money(cost.accruedUsd) + (cost.maxUsd !== null && cost.maxUsd !== undefined ? ' of ' + fmt.money(cost.maxUsd) : '');
}

/** A section with a heading. */
export function section(title, ...body) {
  return h('section', {class: 'card'}, h('h2', {}, title), ...body);
}

export function loading(text = 'Loading…') {
  return h('p', {class: 'muted loading'}, text);
}

/** A small "live" dot with a state. */
export function liveDot() {
  const el = h('span', {class: 'live-dot', title: 'Connecting'}, 'connecting');
  el.set = (status) => {
    el.className = 'live-dot ' + status;
    el.textContent = status === 'live' ? 'live' : status;
    el.title = status === 'live' ? 'Updating live' : 'Live updates: ' + status;
  };
  return el;
}
