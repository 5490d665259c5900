// Tiny DOM helpers: h('tag#id.class.class', {attrs, onclick}, ...children).
export function h(sel, attrs, ...kids) {
  const [tagId, ...classes] = sel.split('.');
  const [tag, id] = tagId.split('#');
  const el = document.createElement(tag || 'div');
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    kids.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'value') el.value = v; // a textarea has no value attribute
    else if (k === 'class') el.className += (el.className ? ' ' : '') + v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, kids);
  return el;
}

function append(el, kids) {
  for (const k of kids) {
    if (k == null || k === false) continue;
    if (Array.isArray(k)) append(el, k);
    else el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
}

export const $ = (sel, root = document) => root.querySelector(sel);

let toastTimer;
export function toast(msg) {
  const el = $('#toast');
  el.textContent = msg;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.classList.remove('show');
    toastTimer = setTimeout(() => { el.textContent = ''; }, 400); // gone for screen readers too
  }, 3500);
}

export function mount(...nodes) {
  $('#main').replaceChildren(...nodes.filter((n) => n != null && n !== false));
}

// After a route change focus goes to the new heading, so screen readers hear the change.
export function focusHeading() {
  const head = $('#main h2');
  if (head) {
    head.tabIndex = -1;
    head.focus({ preventScroll: true });
  }
  window.scrollTo(0, 0);
}

let seq = 0;
export const uid = (p = 'f') => `${p}${++seq}`;
