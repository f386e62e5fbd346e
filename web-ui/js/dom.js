// Building DOM nodes without innerHTML: every string becomes a text node, so API data is never parsed as HTML.

/** Creates an element: h('a', {href: '#/jobs', class: 'x', onclick: fn}, 'text', child, [more]). */
export function h(tag, attrs, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'style' && typeof value === 'object') {
      Object.assign(el.style, value);
    } else if (key === 'value' && 'value' in el) {
      el.value = value;
    } else if (key === 'checked' || key === 'selected' || key === 'disabled') {
      el[key] = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Appends strings (as text), nodes and nested arrays; skips null, undefined and false. */
export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces every child of a node. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** A labelled field wrapper whose error slot is found by the field's JSON path. */
export function field(label, input, opts = {}) {
  const path = opts.path || input.name;
  if (path) input.dataset.field = path;
  if (!input.id) input.id = 'f-' + (path || label).replace(/[^a-zA-Z0-9]+/g, '-');
  return h('div', {class: ['field', opts.wide && 'wide'], dataset: {fieldWrap: path || ''}},
    h('label', {for: input.id}, label, opts.unit ? h('span', {class: 'unit'}, ' (' + opts.unit + ')') : null),
    input,
    opts.hint ? h('small', {class: 'hint'}, opts.hint) : null,
    h('small', {class: 'field-error', role: 'alert', dataset: {errorFor: path || ''}}));
}

/** A table with a header row; rows are arrays of cells (strings or nodes). */
export function table(headers, rows, opts = {}) {
  return h('div', {class: 'table-wrap'},
    h('table', {class: ['data', opts.class]},
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', {scope: 'col'}, x)))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', {colspan: headers.length, class: 'empty'}, opts.empty || 'Nothing here yet.')))));
}

export function row(cells, attrs = {}) {
  return h('tr', attrs, cells.map((c) => (c instanceof Node && c.tagName === 'TD' ? c : h('td', {}, c))));
}

export function badge(state) {
  const s = String(state || '').toUpperCase();
  return h('span', {class: 'badge state-' + s.toLowerCase()}, s.replace(/_/g, ' '));
}
