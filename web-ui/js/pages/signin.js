// Sign in with an API token; the token is kept for this tab only (sessionStorage).
import {h} from '../dom.js';
import {session, get} from '../api.js';
import {problemBox} from '../ui.js';

export function render(main, {params}) {
  const input = h('input', {type: 'password', id: 'token', name: 'token', autocomplete: 'off', required: true,
    placeholder: 'ty_…', spellcheck: 'false'});
  const out = h('div', {class: 'signin-result'});
  const form = h('form', {class: 'card signin', onsubmit: async (e) => {
    e.preventDefault();
    out.replaceChildren();
    const token = input.value.trim();
    if (!token) return;
    session.set(token);
    try {
      session.me = await get('/me');
      const next = params.get('next') || '/jobs';
      location.hash = '#' + (next.startsWith('/') ? next : '/jobs');
    } catch (err) {
      session.clear();
      session.me = null;
      out.replaceChildren(problemBox(err));
    }
  }},
  h('h1', {}, 'Sign in'),
  h('p', {class: 'muted'}, 'Paste an API token (admin or project member). It is kept for this browser tab only.'),
  params.get('expired') ? h('p', {class: 'problem'}, 'Your token was rejected or revoked; sign in again.') : null,
  h('div', {class: 'field'}, h('label', {for: 'token'}, 'API token'), input),
  h('button', {type: 'submit', class: 'primary', id: 'sign-in'}, 'Sign in'),
  out);
  main.append(form);
  input.focus();
}
