// One input per item type (architecture.md, "Item types"). Each widget calls set(value) on
// every change; undefined removes the answer. Photos are handled by the form.
import { t, L, fmtNum } from './i18n.js';
import { h, uid } from './ui.js';
import { weeklyTotals, DAYS } from './rules.js';

const MAX_TEXT = 4000; // the server's limit for a text answer

function numberField(item, value, set, ids) {
  const unit = L(item.unit);
  const input = h('input.num', {
    id: ids.input, type: 'number', value: value ?? '', 'aria-describedby': ids.desc, min: '0',
    // counts are whole numbers (the template says so); areas and shares take decimals
    inputmode: item.integer || !/_(m2|pct)$/.test(item.key) ? 'numeric' : 'decimal',
    step: item.integer ? '1' : 'any',
    oninput: (e) => {
      const raw = e.target.value;
      set(raw === '' ? undefined : Number(raw));
    },
  });
  return h('div.numrow', input, unit ? h('span.unit', unit) : null);
}

// Native radios styled as big segmented buttons: accessible by default.
function choices(item, value, set, ids, opts, multi) {
  const name = uid('c');
  return h('div.seg', { role: multi ? 'group' : 'radiogroup', 'aria-labelledby': ids.label,
    'aria-describedby': ids.desc },
  opts.map((o) => {
    const id = uid('o');
    const checked = multi ? (value || []).includes(o.key) : value === o.value;
    return h('span.opt',
      h('input', { type: multi ? 'checkbox' : 'radio', id, name, checked,
        onchange: (e) => {
          if (!multi) { set(o.value); return; }
          const cur = new Set(Array.isArray(value) ? value : []);
          if (e.target.checked) cur.add(o.key); else cur.delete(o.key);
          value = item.options.map((x) => x.key).filter((k) => cur.has(k));
          set(value);
        } }),
      h('label', { for: id }, o.label));
  }));
}

function yesno(item, value, set, ids) {
  return choices(item, value, set, ids,
    [{ key: 'yes', value: true, label: t('form.yes') }, { key: 'no', value: false, label: t('form.no') }]);
}

function choice(item, value, set, ids) {
  return choices(item, value, set, ids, item.options.map((o) => ({ key: o.key, value: o.key, label: L(o.label) })));
}

function multicheck(item, value, set, ids) {
  return choices(item, value, set, ids,
    item.options.map((o) => ({ key: o.key, label: L(o.label) })), true);
}

function text(item, value, set, ids) {
  const phone = /phone|tel/.test(item.key);
  const attrs = { id: ids.input, value: value ?? '', 'aria-describedby': ids.desc, maxlength: MAX_TEXT,
    oninput: (e) => set(e.target.value === '' ? undefined : e.target.value) };
  if (phone) return h('input', { ...attrs, type: 'tel', inputmode: 'tel', autocomplete: 'off' });
  return h('input', { ...attrs, type: 'text', autocomplete: 'off' });
}

function describeTotals(tot) {
  if (!tot || tot.invalid) return t('hours.invalid');
  return t('hours.total', { days: tot.days, hours: fmtNum(tot.hours) });
}

// "830", "0830", "8:30", "８：３０" -> "08:30"; "17" -> "17:00"; null when it is no time of day.
export function hhmm(text) {
  const s = String(text).replace(/[０-９：]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).trim();
  const m = s.match(/^(\d{1,2})(?:[:.]?(\d{2}))?$/);
  if (!m) return null;
  const [hh, mm] = [Number(m[1]), Number(m[2] || 0)];
  if (hh > 24 || mm > 59 || (hh === 24 && mm)) return null;
  return `${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}`;
}

// A time is typed, not picked: the browser's time field follows its own locale (a Chinese form
// showed "08:30 AM"). Digits only, so the phone's number pad will do; 24-hour always.
function timeField(range, i, label, bad, change) {
  return h('input.time', { type: 'text', inputmode: 'numeric', maxlength: 5, autocomplete: 'off',
    placeholder: i ? '17:30' : '08:30', value: range[i], 'aria-label': label, 'aria-invalid': bad ? 'true' : null,
    onchange: (e) => { range[i] = hhmm(e.target.value) ?? e.target.value.trim(); change(); } });
}

// Weekly opening hours: per day a list of ranges; the weekly total is computed live by the
// same function the rules use. Shortcuts: the point's registered hours, copy a day to the
// next one, Monday to Tuesday-Friday.
function weeklyHours(item, value, set, ids, ctx) {
  let hours = Object.fromEntries(DAYS.map((d) => [d, ((value && value[d]) || []).map((r) => [...r])]));
  const registered = ctx?.point?.opening_hours;
  const hasRegistered = registered && DAYS.some((d) => registered[d]?.length);
  const total = h('p.total', { id: uid('tot'), 'aria-live': 'polite' });
  const box = h('div.week', { role: 'group', 'aria-labelledby': ids.label, 'aria-describedby': ids.desc });
  const commit = () => {
    const clean = Object.fromEntries(DAYS.map((d) => [d, hours[d].filter((r) => r[0] && r[1])]));
    const any = DAYS.some((d) => clean[d].length);
    total.textContent = describeTotals(weeklyTotals(clean));
    set(any ? clean : undefined);
  };
  const bad = (r) => r[0] && r[1] && r[0] >= r[1];
  const change = () => { draw(); commit(); };
  const copy = (from, to) => { for (const o of to) hours[o] = hours[from].map((r) => [...r]); change(); };
  const draw = () => {
    const empty = !DAYS.some((d) => hours[d].length);
    box.replaceChildren(...[
      empty && hasRegistered ? h('button.small', { type: 'button', onclick: () => {
        hours = Object.fromEntries(DAYS.map((d) => [d, (registered[d] || []).map((r) => [...r])]));
        change();
      } }, t('hours.use_registered')) : null,
      ...DAYS.map((d, n) => {
        const dayName = t(`day.${d}`);
        const next = DAYS[n + 1];
        const has = hours[d].length > 0;
        return h('fieldset.day',
          h('legend', dayName),
          hours[d].map((r, i) => h('div.range', { class: bad(r) ? 'bad' : null },
            timeField(r, 0, t('hours.from', { day: dayName }), bad(r), change),
            h('span', { 'aria-hidden': 'true' }, '–'),
            timeField(r, 1, t('hours.to', { day: dayName }), bad(r), change),
            h('button.small.ghost', { type: 'button', 'aria-label': t('hours.remove', { day: dayName }),
              onclick: () => { hours[d].splice(i, 1); change(); } }, '×'))),
          h('button.small.ghost', { type: 'button', onclick: () => {
            const prev = hours[d][hours[d].length - 1];
            hours[d].push(prev ? ['14:30', '17:30'] : ['08:30', '12:00']);
            change();
          } }, t('hours.add', { day: dayName })),
          has && next ? h('button.small.ghost', { type: 'button', onclick: () => copy(d, [next]) },
            t('hours.copy_next', { day: dayName, next: t(`day.${next}`) })) : null,
          d === 'mon' && has ? h('button.small.ghost', { type: 'button',
            onclick: () => copy('mon', ['tue', 'wed', 'thu', 'fri']) }, t('hours.copy_weekdays')) : null);
      })].filter(Boolean));
  };
  draw();
  total.textContent = describeTotals(weeklyTotals(hours));
  return h('div', box, total);
}

const WIDGETS = { number: numberField, yesno, choice, multicheck, text, weekly_hours: weeklyHours };

export function widget(item, value, set, ids, ctx) {
  const make = WIDGETS[item.type];
  return make ? make(item, value, set, ids, ctx) : null;
}
