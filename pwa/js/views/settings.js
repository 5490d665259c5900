// Settings: language, this phone's name, the data kept on it, account, app version.
import { t, setLang, getLang, LANGS, fmtDate, fmtBytes } from '../i18n.js';
import { h, mount, toast } from '../ui.js';
import { setMeta, getMeta, get, all } from '../db.js';
import { logout, getAuth } from '../sync.js';
import { ops } from '../outbox.js';
import { requestPersist, checkUpdate, go } from '../state.js';
import { refreshChrome } from '../chrome.js';

async function storageText() {
  const est = await navigator.storage?.estimate?.();
  const kept = await navigator.storage?.persisted?.();
  return [est ? t('storage.used', { used: fmtBytes(est.usage || 0), quota: fmtBytes(est.quota || 0) }) : '',
    t(kept ? 'storage.persisted' : 'storage.not_persisted')].join(getLang() === 'en' ? ' ' : '');
}

// Logging out on a shared phone: say what waits and what becomes of it.
async function leave(me) {
  const n = (await ops(me)).length;
  const d = (await all('inspections')).filter((i) => i._owner === me && i.status === 'draft').length;
  if ((n || d) && !confirm(t('settings.logout_keeps', { n, d }))) return;
  await logout();
  go('#/login');
}

export async function render() {
  const auth = await getAuth();
  const area = auth?.user?.area_code ? await get('areas', auth.user.area_code) : null;
  const storage = h('p', { 'aria-live': 'polite' }, await storageText());
  const kept = await navigator.storage?.persisted?.();
  const langSel = h('select', { id: 'lang', onchange: async (e) => {
    await setMeta('lang', e.target.value);
    await setLang(e.target.value);
    await refreshChrome();
    render();
  } }, LANGS.map((l) => h('option', { value: l, selected: l === getLang() }, t(`lang.${l}`))));
  mount(
    h('h2', t('settings.title')),
    h('section.card',
      h('label', { for: 'lang' }, t('settings.language')), langSel),
    h('section.card',
      h('label', { for: 'phone-name' }, t('settings.phone_name')),
      h('input', { id: 'phone-name', type: 'text', maxlength: 60, autocomplete: 'off',
        value: await getMeta('device_name', ''), 'aria-describedby': 'phone-name-help',
        onchange: (e) => setMeta('device_name', e.target.value.trim()) }),
      h('p.muted#phone-name-help', t('settings.phone_name_help'))),
    h('section.card', h('h3', t('settings.storage')), storage,
      kept ? null : h('button.small', { type: 'button', onclick: async (e) => {
        const ok = await requestPersist();
        storage.textContent = await storageText();
        if (ok) e.target.remove();
        else toast(t('storage.refused'));
      } }, t('storage.persist'))),
    h('section.card', h('h3', t('settings.account')),
      auth ? h('dl.facts',
        h('dt', t('settings.user')), h('dd', `${auth.user.display_name || ''} (${auth.user.username})`),
        h('dt', t('settings.area')), h('dd', area?.name || auth.user.area_code || '—'),
        h('dt', t('settings.token_until')), h('dd', fmtDate(auth.expires_at))) : h('p', t('settings.not_logged_in')),
      auth ? h('button', { type: 'button', onclick: () => leave(auth.user.id) }, t('settings.logout'))
        : h('a.button', { href: '#/login' }, t('login.title'))),
    h('section.card', h('h3', t('settings.app')),
      h('button.small', { type: 'button', onclick: async () => {
        toast(t(await checkUpdate() ? 'update.available' : 'update.none'));
        refreshChrome();
      } }, t('update.check'))),
  );
}
