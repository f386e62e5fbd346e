// Projects (budget, spend, share, burn rate) and, for admins, API tokens.
import {h, replace, table, row, field} from '../dom.js';
import {get, patch, post, del, session} from '../api.js';
import * as fmt from '../format.js';
import {problemBox, section, loading, flash, showFieldErrors, clearFieldErrors} from '../ui.js';

export function render(main) {
  const admin = session.me && session.me.role === 'ADMIN';
  const projects = h('div', {id: 'projects'}, loading());
  const tokens = h('div', {id: 'tokens'}, admin ? loading() : null);
  const secretBox = h('div', {id: 'new-secret'});
  main.append(h('div', {class: 'page-head'}, h('h1', {}, 'Projects')), section('Budgets and spend', projects),
    admin ? section('API tokens', secretBox, tokenForm(), tokens) : null);
  let disposed = false;

  async function loadProjects() {
    try {
      const [list, pools, running] = await Promise.all([get('/projects'), get('/pools'),
        get('/jobs?state=RUNNING&limit=200').catch(() => ({items: []}))]);
      if (disposed) return;
      const price = Object.fromEntries(pools.map((p) => [p.name, Number(p.pricePerGpuHour)]));
      const burn = {};
      for (const j of running.items) burn[j.project] = (burn[j.project] || 0) + j.gpus * (price[j.pool] || 0);
      replace(projects, table(['Project', 'Budget', 'Spent', 'Left', 'Burn rate', 'Share', admin ? 'Change' : ''],
        list.map((p) => projectRow(p, burn[p.name] || 0)), {empty: 'No projects.'}));
    } catch (err) {
      replace(projects, problemBox(err));
    }
  }

  function projectRow(p, burnPerHour) {
    const budget = p.budgetUsd === null || p.budgetUsd === undefined ? null : Number(p.budgetUsd);
    const left = budget === null ? null : budget - Number(p.spentUsd);
    const used = budget ? Math.min(100, (100 * Number(p.spentUsd)) / budget) : 0;
    return row([h('strong', {}, p.name),
      budget === null ? 'unlimited' : fmt.money(budget),
      [fmt.money(p.spentUsd), budget ? h('div', {class: 'bar small', title: Math.round(used) + ' % of budget'}, h('span', {style: {width: used + '%'}})) : null],
      left === null ? '—' : fmt.money(left),
      [fmt.money(burnPerHour) + ' per hour', burnPerHour > 0 && left !== null ? h('div', {class: 'muted'}, 'budget lasts ' + fmt.duration((left / burnPerHour) * 3600)) : null],
      fmt.number(p.share),
      admin ? editControls(p, budget) : ''], {dataset: {project: p.name}});
  }

  function editControls(p, budget) {
    const budgetIn = h('input', {type: 'number', min: '0', step: 'any', name: 'budgetUsd', value: budget === null ? '' : String(budget),
      placeholder: 'unlimited', 'aria-label': 'Budget of ' + p.name + ' in USD', class: 'small-input'});
    const shareIn = h('input', {type: 'number', min: '0', step: 'any', name: 'share', value: String(p.share),
      'aria-label': 'Share of ' + p.name, class: 'small-input'});
    const out = h('div', {});
    return h('form', {class: 'inline-form', onsubmit: async (e) => {
      e.preventDefault();
      out.replaceChildren();
      const body = {share: Number(shareIn.value)};
      if (budgetIn.value.trim() === '') body.unlimited = true;
      else body.budgetUsd = Number(budgetIn.value);
      try {
        await patch('/projects/' + encodeURIComponent(p.name), body);
        flash('Project ' + p.name + ' updated.', 'ok');
        loadProjects();
      } catch (err) {
        out.append(problemBox(err));
      }
    }}, h('label', {}, 'USD ', budgetIn), h('label', {}, 'share ', shareIn), h('button', {type: 'submit', class: 'ghost'}, 'Save'), out);
  }

  function tokenForm() {
    const name = h('input', {name: 'name', required: true, autocomplete: 'off'});
    const role = h('select', {name: 'role'}, ['MEMBER', 'ADMIN', 'RUNNER'].map((r) => h('option', {value: r}, r.toLowerCase())));
    const project = h('select', {name: 'project'}, h('option', {value: ''}, 'none'));
    get('/projects').then((list) => list.forEach((p) => project.append(h('option', {value: p.name}, p.name))), () => {});
    const out = h('div', {});
    const form = h('form', {class: 'token-form', id: 'token-form', onsubmit: async (e) => {
      e.preventDefault();
      out.replaceChildren();
      clearFieldErrors(form);
      const body = {name: name.value.trim(), role: role.value};
      if (project.value.trim()) body.project = project.value.trim();
      try {
        const created = await post('/tokens', body);
        replace(secretBox, h('div', {class: 'secret card'},
          h('p', {}, h('strong', {}, 'Token “' + created.token.name + '” created. '), 'Copy its secret now; it is not shown again.'),
          h('div', {class: 'secret-row'}, h('code', {id: 'token-secret'}, created.secret),
            h('button', {type: 'button', class: 'ghost', onclick: () => navigator.clipboard?.writeText(created.secret).then(() => flash('Copied.', 'ok'), () => {})}, 'Copy')),
          h('button', {type: 'button', class: 'ghost', onclick: () => secretBox.replaceChildren()}, 'I have stored it')));
        form.reset();
        loadTokens();
      } catch (err) {
        const orphans = showFieldErrors(form, err.errors);
        if (orphans.length || !err.errors.length) out.append(problemBox({problem: {...err.problem, errors: orphans}}));
      }
    }},
    h('div', {class: 'grid'}, field('Name', name), field('Role', role), field('Project', project, {hint: 'required for member tokens'})),
    h('button', {type: 'submit', class: 'primary'}, 'Create token'), out);
    return form;
  }

  async function loadTokens() {
    try {
      const list = await get('/tokens');
      if (disposed) return;
      replace(tokens, table(['Name', 'Role', 'Project', 'Prefix', 'Created', 'Revoked', ''],
        list.map((t) => row([t.name, t.role.toLowerCase(), t.project || '—', h('code', {}, t.prefix + '…'), fmt.when(t.createdAt),
          t.revokedAt ? fmt.when(t.revokedAt) : '—',
          t.revokedAt || t.id === session.me.tokenId ? '' : h('button', {type: 'button', class: 'ghost danger-text', onclick: async (e) => {
            const b = e.currentTarget;
            if (b.dataset.armed !== '1') { b.dataset.armed = '1'; b.textContent = 'Really revoke?'; return; }
            try {
              await del('/tokens/' + t.id);
              flash('Token ' + t.name + ' revoked.', 'ok');
              loadTokens();
            } catch (err) {
              replace(tokens, problemBox(err));
            }
          }}, 'Revoke')])), {empty: 'No tokens.'}));
    } catch (err) {
      replace(tokens, problemBox(err));
    }
  }

  loadProjects();
  if (admin) loadTokens();
  const timer = setInterval(loadProjects, 15000);
  return () => {
    disposed = true;
    clearInterval(timer);
  };
}
