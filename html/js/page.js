// What every page shares: the language picker, the sign-in box (a pasted
// user token, kept in sessionStorage), the banner line.
import { LANGUAGES, lang, setLang, t, translate } from './i18n.js';
import { claims, setUserToken, userToken } from './session.js';
import { cameras } from './api.js';

export function setupHeader() {
    translate();
    const sel = document.getElementById('lang');
    if (sel) {
        for (const code of LANGUAGES) sel.add(new Option(code.toUpperCase(), code));
        sel.value = lang();
        sel.addEventListener('change', () => {
            setLang(sel.value);
            const u = new URL(location.href);
            u.searchParams.delete('lang');
            location.replace(u.href);
        });
    }
    const out = document.getElementById('signout');
    if (out) {
        out.hidden = !userToken();
        out.addEventListener('click', () => {
            setUserToken('');
            location.reload();
        });
    }
}

// Whether the token's exp (read, not verified: the server decides) is past.
export function tokenExpired(token = userToken()) {
    const exp = claims(token).exp;
    return typeof exp === 'number' && exp * 1000 <= Date.now();
}

// The session ended (its token expired or was refused): drop the token, show the sign-in form.
export function signInAgain() {
    setUserToken('');
    location.reload();
}

// A failed API call as the user is told it, in the page's language (never the server's English):
// {text, signIn} — signIn when only signing in again can help (401).
export function explain(e) {
    const status = e && e.status;
    if (status === 401) {
        const why = (e.body && (e.body.message || e.body.error)) || '';
        return { text: t(/expired/i.test(why) || tokenExpired() ? 'session_expired' : 'session_invalid'), signIn: true };
    }
    if (status === 403) return { text: t('not_authorized') };
    if (status === 429) {
        return { text: e.limitReached ? t('limit_reached', { limit: e.body.limit ?? '?' }) : t('too_many_requests') };
    }
    if (e && e.serverDown) return { text: t('server_down') };
    return { text: t('request_failed', { status: status ?? '?' }) };
}

// Resolves with the user token, asking for one first if there is none (or it has expired: then
// the form says so).
export function signedIn(main) {
    const expired = userToken() && tokenExpired();
    if (expired) setUserToken('');
    if (userToken()) return Promise.resolve(userToken());
    const out = document.getElementById('signout');
    if (out) out.hidden = true;
    // the page's own controls wait behind the form (it is the only thing on screen, at any height)
    const waiting = [...main.children].filter((el) => !el.hidden);
    for (const el of waiting) el.hidden = true;
    return new Promise((resolve) => {
        const form = document.createElement('form');
        form.className = 'signin';
        form.innerHTML = `<p class="notice" data-role="signin-notice" hidden></p>
            <label for="token-input"></label><textarea id="token-input" autocomplete="off"></textarea>
            <button type="submit"></button>`;
        const notice = form.querySelector('[data-role=signin-notice]');
        notice.hidden = !expired;
        notice.textContent = expired ? t('session_expired') : '';
        form.querySelector('label').textContent = t('token_label');
        form.querySelector('button').textContent = t('sign_in');
        form.addEventListener('submit', (ev) => {
            ev.preventDefault();
            const v = form.querySelector('textarea').value.trim();
            if (!v) return;
            setUserToken(v);
            form.remove();
            for (const el of waiting) el.hidden = false;
            if (out) out.hidden = false;
            resolve(v);
        });
        main.append(form);
    });
}

// A local time as file names carry it: YYYYMMDD-HHMMSS.
export function fileStamp(ms) {
    const d = new Date(ms);
    const p = (x) => String(x).padStart(2, '0');
    return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

// Saves an object URL under a name, as a click on a download link would; the URL is revoked later.
export function saveAs(url, name) {
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// kind: 'maintenance' | 'server' | 'limit' | 'session' | '' (hide); 'session' adds a
// "sign in again" button.
export function banner(kind, text) {
    const el = document.getElementById('banner');
    if (!el) return;
    el.hidden = !kind;
    el.dataset.kind = kind || '';
    el.textContent = kind ? text : '';
    if (kind === 'session') {
        const b = document.createElement('button');
        b.type = 'button';
        b.dataset.role = 'signin-again';
        b.textContent = t('sign_in_again');
        b.addEventListener('click', signInAgain);
        el.append(' ', b);
    }
}

// Tells the user about a failed call in the banner (with "sign in again" on 401).
export function bannerError(e) {
    const { text, signIn } = explain(e);
    banner(signIn ? 'session' : 'server', text);
}

// A page about one camera opened without ?camera=: the cameras as links to hrefFor(id).
export async function cameraPicker(main, hrefFor) {
    await signedIn(main);
    let list = [];
    try {
        list = await cameras();
    } catch {
        // the list stays empty: said below
    }
    const ul = document.createElement('ul');
    ul.className = 'camera-picker';
    for (const c of list) {
        const a = document.createElement('a');
        a.href = hrefFor(c.id);
        a.textContent = c.id;
        const li = document.createElement('li');
        li.dataset.state = c.status;
        li.append(a);
        ul.append(li);
    }
    main.replaceChildren(ul);
    if (!list.length) banner('server', t('no_cameras'));
}
