// Around every screen: the navigation with the queue badge, and the banner (expired login,
// offline, a phone clock that is off, a new version).
import { t } from './i18n.js';
import { getMeta, all } from './db.js';
import { ops } from './outbox.js';
import { h, $ } from './ui.js';
import { state, applyUpdate } from './state.js';

// The user's records the server refused and nobody has copied into a new draft yet.
async function refusedCount(me) {
  return (await all('inspections'))
    .filter((i) => i._owner === me && i._sync?.state === 'rejected' && !i._sync.redrafted).length;
}

export async function refreshChrome() {
  const me = state.auth?.user?.id ?? null;
  // The same count as the outbox screen's (outbox.ops): only this user's records.
  const [mine, refused, offset] = await Promise.all([ops(me), refusedCount(me), getMeta('clock_offset')]);
  const n = mine.length;
  const nav = $('#nav');
  const link = (hash, label, ...extra) => h('a', { href: hash,
    'aria-current': location.hash.startsWith(hash) ? 'page' : null }, label, ...extra);
  nav.replaceChildren(
    link('#/home', t('nav.points')),
    link('#/today', t('nav.today')),
    // One badge: the queue, red with a "!" when the server refused something.
    link('#/outbox', t('nav.outbox'), n || refused ? h(`span.badge${refused ? '.alert' : ''}`, {
      'aria-label': [n ? t('outbox.count', { n }) : '', refused ? t('outbox.refused_count', { n: refused }) : '']
        .filter(Boolean).join(' · ') }, `${n || ''}${refused ? '!' : ''}`) : null),
    link('#/settings', t('nav.settings')),
  );
  const parts = [];
  if (state.auth?.expired) {
    parts.push(h('p.warn', t('auth.expired_banner', { n }), ' ',
      h('a', { href: '#/login' }, t('auth.login_again'))));
  }
  if (!navigator.onLine) parts.push(h('p.info', t(n ? 'net.offline' : 'net.offline_none', { n })));
  // The phone's clock is off (records are dated by the corrected clock; say so once it is far).
  if (Math.abs(offset || 0) > 10 * 60_000) {
    const hrs = Math.abs(offset) / 3600_000;
    parts.push(h('p.warn', t(offset > 0 ? 'clock.behind' : 'clock.ahead', hrs >= 1
      ? { amount: t('clock.hours', { n: Math.round(hrs) }) }
      : { amount: t('clock.minutes', { n: Math.round(hrs * 60) }) })));
  }
  if (state.update) {
    parts.push(h('p.info', t('update.available'), ' ',
      h('button.small', { type: 'button', onclick: applyUpdate }, t('update.apply'))));
  }
  $('#banner').replaceChildren(...parts);
}
