// Before a submission: every reason the point would not be 达标, grouped the way an inspector
// deals with them (blank items, missing photos, failing answers, numbers that look mistyped),
// and what submitting anyway does. Built from the same evaluation the form shows, so the list
// and the live verdicts never disagree. No storage here: the form says what a line links to.
import { t, getLang, reason } from './i18n.js';
import { h } from './ui.js';

// Codes of a value that must be corrected first: the server would refuse the whole record.
export const INVALID = new Set(['invalid_value', 'invalid_hours', 'negative', 'not_integer']);

// One evaluation (rules.js) sorted into what the panel lists, in checklist order.
export function findings(result) {
  const out = { invalid: [], missing: [], waiting: [], photos: [], failing: [],
    warnings: result.warnings || [] };
  for (const [key, res] of Object.entries(result.items)) {
    if (res.status === 'missing') {
      out.missing.push(key);
      if (res.code === 'needs_item') out.waiting.push(key); // answered; its rule needs a blank item
    }
    else if (res.status !== 'fail') continue;
    else if (INVALID.has(res.code)) out.invalid.push(key);
    else (res.code === 'photos_short' ? out.photos : out.failing).push(key);
  }
  return out;
}

// Whether submitting deserves a second look: anything short of 达标, or a number to check.
export const needsReview = (f, rating) => rating !== 'good' || f.warnings.length > 0;

// The panel's content. `line(key, note)` renders one item as a link to it, with a note (true:
// the item's own reason); `keepFilling` and `submitAnyway` are the two ways out.
export function reviewPanel(f, rating, { line, keepFilling, submitAnyway }) {
  const group = (title, rows) => (rows.length ? [h('h4', t(title, { n: rows.length })),
    h('ul.plain.missing-list', rows)] : null);
  const fails = f.photos.length + f.failing.length;
  const then = [
    f.missing.length ? t('panel.then_missing') : '',
    fails ? t('panel.then_fail', { n: fails }) : '',
    rating === 'incomplete' ? t('panel.then_incomplete') : '',
    t('panel.then_final'),
  ].filter(Boolean).join(getLang() === 'en' ? ' ' : '');
  return [
    h('h3#panel-h', { tabindex: '-1' }, t(rating === 'good' ? 'panel.check_title' : 'panel.title')),
    h('p', t('panel.rating'), ' ', h(`span.tag.r-${rating}`, t(`rating.${rating}`))),
    group('panel.warnings', f.warnings.map((w) => line(w.item, reason(w)))),
    group('panel.missing', f.missing.map((k) => line(k, f.waiting.includes(k)))),
    group('panel.photos', f.photos.map((k) => line(k, true))),
    group('panel.failing', f.failing.map((k) => line(k, true))),
    h('p.then', h('strong', t('panel.then')), then),
    h('div.actions',
      h('button', { type: 'button', onclick: keepFilling }, t('form.keep_filling')),
      h('button.primary', { type: 'button', onclick: submitAnyway }, t('form.submit_anyway'))),
  ];
}
