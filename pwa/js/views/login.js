// Log in once, online; then the cached token and scope carry weeks of offline work.
import { t, has } from '../i18n.js';
import { h, mount } from '../ui.js';
import { login, getAuth } from '../sync.js';
import { ops } from '../outbox.js';
import { go, sync, requestPersist, state } from '../state.js';
import { othersNote } from '../widgets.js';

export async function render() {
  const auth = await getAuth();
  const me = auth?.user?.id ?? null;
  const queued = (await ops(me)).length;
  const err = h('p.error', { role: 'alert', id: 'login-error' });
  const user = h('input', { id: 'username', name: 'username', type: 'text', autocomplete: 'username',
    autocapitalize: 'none', required: true, value: auth?.user?.username || '' });
  const pass = h('input', { id: 'password', name: 'password', type: 'password',
    autocomplete: 'current-password', required: true });
  const btn = h('button.primary', { type: 'submit' }, t('login.submit'));
  const form = h('form.card', {
    'aria-describedby': 'login-error',
    onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      if (!navigator.onLine) { err.textContent = t('login.needs_network'); return; }
      btn.disabled = true;
      btn.textContent = t('login.busy');
      let res;
      try { res = await login(user.value.trim(), pass.value); } catch (_) { res = { ok: false, code: 'network' }; }
      btn.disabled = false;
      btn.textContent = t('login.submit');
      if (!res.ok) {
        // A proxy's 502/503/504 (server down, being updated) is not the inspector's fault.
        const key = /^http_5\d\d$/.test(res.code) ? 'login.error.server' : `login.error.${res.code}`;
        const minutes = Math.max(1, Math.ceil((res.retryAfter || 0) / 60));
        err.textContent = has(key) ? t(key, { code: res.code.replace('http_', ''), minutes })
          : t('login.error.other', { code: res.code });
        return;
      }
      state.auth = await getAuth();
      requestPersist();
      await sync({ force: true });
      go('#/home');
    },
  },
  h('label', { for: 'username' }, t('login.username')), user,
  h('label', { for: 'password' }, t('login.password')), pass,
  err, btn);
  mount(
    h('h2', t(auth?.expired ? 'login.title_again' : 'login.title')),
    auth?.expired ? h('p.warn', t('login.kept', { n: queued, name: auth.user.display_name || auth.user.username }))
      : h('p', t('login.intro')),
    await othersNote(me),
    form,
  );
}
