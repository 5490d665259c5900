// Settings: language, storage, account, app version.
import { t, setLang, getLang, LANGS, fmtDate } from '../i18n.js';
import { h, mount, toast } from '../ui.js';
import { setMeta, count, get } from '../db.js';
import { logout, getAuth } from '../sync.js';
import { deviceId } from '../outbox.js';
import { storageText, requestPersist, checkUpdate, go } from '../state.js';
import { refreshChrome } from '../chrome.js';

export async function render() {
  const auth = await getAuth();
  const queued = await count('outbox');
  const area = auth?.user?.area_code ? await get('areas', auth.user.area_code) : null;
  const storage = h('p', { 'aria-live': 'polite' }, await storageText());
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
    h('section.card', h('h3', t('settings.storage')), storage,
      h('button.small', { type: 'button', onclick: async () => {
        const ok = await requestPersist();
        storage.textContent = await storageText();
        toast(t(ok ? 'storage.persisted' : 'storage.not_persisted'));
      } }, t('storage.persist'))),
    h('section.card', h('h3', t('settings.account')),
      auth ? h('dl.facts',
        h('dt', t('settings.user')), h('dd', `${auth.user.display_name || ''} (${auth.user.username})`),
        h('dt', t('settings.area')), h('dd', area?.name ? `${area.name} (${auth.user.area_code})` : auth.user.area_code || '—'),
        h('dt', t('settings.token_until')), h('dd', fmtDate(auth.expires_at))) : h('p', t('settings.not_logged_in')),
      h('p.muted', t('settings.device', { id: await deviceId() })),
      auth ? h('button', { type: 'button', onclick: async () => {
        if (queued && !confirm(t('settings.logout_keeps', { n: queued }))) return;
        await logout();
        go('#/login');
      } }, t('settings.logout')) : h('a.button', { href: '#/login' }, t('login.title'))),
    h('section.card', h('h3', t('settings.app')),
      h('button.small', { type: 'button', onclick: async () => {
        toast(t(await checkUpdate() ? 'update.available' : 'update.none'));
        refreshChrome();
      } }, t('update.check'))),
  );
}
