// Message catalogs (i18n/*.json) are the one source of UI strings. zh-CN is the default.
export const LANGS = ['zh-CN', 'en'];
let lang = 'zh-CN';
let cat = {};
let fallback = {};

async function load(l) {
  const res = await fetch(new URL(`../i18n/${l}.json`, import.meta.url));
  return res.json();
}

export async function setLang(l) {
  lang = LANGS.includes(l) ? l : 'zh-CN';
  cat = await load(lang);
  if (lang !== 'zh-CN' && !Object.keys(fallback).length) fallback = await load('zh-CN');
  if (typeof document !== 'undefined') {
    document.documentElement.lang = lang;
    // The static shell (index.html) is written in Chinese; say it in the chosen language.
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
    document.title = t('app.name');
  }
  return lang;
}

export const getLang = () => lang;

export function has(key) {
  return key in cat;
}

export function t(key, params) {
  let s = cat[key] ?? fallback[key] ?? key;
  if (params) {
    s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] == null ? m : fmtValue(params[k])));
  }
  return s;
}

function fmtValue(v) {
  if (typeof v === 'number') return fmtNum(v);
  if (Array.isArray(v)) return v.map(fmtValue).join(lang === 'en' ? ', ' : '、');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

// Template text is {"zh": ..., "en": ...}.
export function L(obj) {
  if (obj == null) return '';
  if (typeof obj === 'string') return obj;
  return (lang === 'en' ? obj.en : obj.zh) ?? obj.zh ?? obj.en ?? '';
}

export const fmtNum = (n, opts) => new Intl.NumberFormat(lang, opts).format(n);

// Hours and minutes; always 24-hour in Chinese (the habit there, and no 上午/下午 to misread).
const CLOCK = () => ({ hour: '2-digit', minute: '2-digit', hourCycle: lang === 'en' ? undefined : 'h23' });

export function fmtDate(iso, withTime = false) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const o = { year: 'numeric', month: 'long', day: 'numeric' };
  if (withTime) Object.assign(o, CLOCK());
  return new Intl.DateTimeFormat(lang, o).format(d);
}

// A moment for people: the time alone when it is today, else a short date and time.
export function fmtWhen(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const today = new Date().toDateString() === d.toDateString();
  const o = today ? CLOCK() : { year: 'numeric', month: 'short', day: 'numeric', ...CLOCK() };
  return new Intl.DateTimeFormat(lang, o).format(d);
}

export function fmtBytes(n) {
  if (n < 1024) return `${fmtNum(n)} B`;
  if (n < 1024 * 1024) return `${fmtNum(n / 1024, { maximumFractionDigits: 0 })} KB`;
  if (n < 1024 ** 3) return `${fmtNum(n / 1024 / 1024, { maximumFractionDigits: 1 })} MB`;
  return `${fmtNum(n / 1024 ** 3, { maximumFractionDigits: 1 })} GB`;
}

// A rule result's reason, e.g. {code: 'below_min', params: {min: 1500}}.
export function reason(r) {
  if (!r || !r.code) return '';
  const key = `rule.${r.code}`;
  return has(key) || key in fallback ? t(key, r.params) : r.code;
}
