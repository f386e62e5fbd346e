// The shell: sign-in state, theme, and hash routing (#/jobs, #/jobs/42, #/submit, #/cluster, #/projects).
import {h, replace} from './dom.js';
import {session, get, whenUnauthorized} from './api.js';
import {problemBox} from './ui.js';
import * as signin from './pages/signin.js';
import * as jobs from './pages/jobs.js';
import * as job from './pages/job.js';
import * as submit from './pages/submit.js';
import * as cluster from './pages/cluster.js';
import * as projects from './pages/projects.js';

const main = document.getElementById('main');
let dispose = null;
let renderSeq = 0;

const routes = [
  {re: /^\/signin$/, page: signin, name: 'signin', open: true},
  {re: /^\/jobs$/, page: jobs, name: 'jobs'},
  {re: /^\/jobs\/(\d+)$/, page: job, name: 'jobs'},
  {re: /^\/submit$/, page: submit, name: 'submit'},
  {re: /^\/cluster$/, page: cluster, name: 'cluster'},
  {re: /^\/projects$/, page: projects, name: 'projects'},
];

/** Splits "#/jobs?state=RUNNING" into "/jobs" and its parameters. */
export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#/, '') || '/jobs';
  const [path, q] = raw.split('?');
  return {path, params: new URLSearchParams(q || '')};
}

async function route() {
  const seq = ++renderSeq;
  const {path, params} = parseHash();
  const match = routes.map((r) => ({r, m: r.re.exec(path)})).find((x) => x.m);
  if (dispose) {
    try { dispose(); } catch (e) { /* a page that failed to clean up must not block the next */ }
    dispose = null;
  }
  if (!match) {
    location.replace('#/jobs');
    return;
  }
  if (!match.r.open && !session.token()) {
    location.replace('#/signin?next=' + encodeURIComponent(location.hash.slice(1) || '/jobs'));
    return;
  }
  if (!match.r.open && !session.me) {
    try {
      session.me = await get('/me');
    } catch (err) {
      if (err.status !== 401) replace(main, problemBox(err));
      return;
    }
    if (seq !== renderSeq) return;
  }
  updateChrome(match.r.name);
  main.replaceChildren();
  window.scrollTo(0, 0);
  const result = match.r.page.render(main, {id: match.m[1], params}, {navigate});
  dispose = typeof result === 'function' ? result : null;
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function updateChrome(active) {
  const signedIn = Boolean(session.token() && session.me);
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('sign-out').hidden = !signedIn;
  const who = document.getElementById('who');
  replace(who, signedIn ? [session.me.name, ' ', h('span', {class: 'role'}, session.me.role.toLowerCase()),
    session.me.project ? ' · ' + session.me.project : ''] : '');
  document.querySelectorAll('#nav a').forEach((a) => {
    a.classList.toggle('active', a.dataset.route === active);
    if (a.dataset.route === active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
}

function signOut() {
  session.clear();
  session.me = null;
  location.hash = '#/signin';
}

whenUnauthorized(() => {
  if (!session.token() || parseHash().path === '/signin') return;
  session.clear();
  session.me = null;
  location.hash = '#/signin?expired=1';
});

// --- theme: system by default, or light / dark chosen with the toggle (kept in localStorage)
const THEMES = ['auto', 'light', 'dark'];
function applyTheme(theme) {
  if (theme === 'auto') document.documentElement.removeAttribute('data-theme');
  else document.documentElement.setAttribute('data-theme', theme);
  document.getElementById('theme-toggle').textContent = 'Theme: ' + theme;
  window.dispatchEvent(new CustomEvent('themechange'));
}
document.getElementById('theme-toggle').addEventListener('click', () => {
  const current = localStorage.getItem('trainyard.theme') || 'auto';
  const next = THEMES[(THEMES.indexOf(current) + 1) % THEMES.length];
  localStorage.setItem('trainyard.theme', next);
  applyTheme(next);
});
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => window.dispatchEvent(new CustomEvent('themechange')));
applyTheme(localStorage.getItem('trainyard.theme') || 'auto');

document.getElementById('sign-out').addEventListener('click', signOut);
window.addEventListener('hashchange', route);
route();
