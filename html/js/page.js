// What every page shares: the language picker, the sign-in form (user name and password, or a
// pasted token; the session is kept in sessionStorage by session.js), sign-out, the banner line.
import { LANGUAGES, lang, setLang, t, translate } from './i18n.js';
import {
    claims, expiresIn, passwordSession, passwordSignIn, refreshSession, resumeSession, schedule, setUserToken,
    signOut, takeNotice, userToken,
} from './session.js';
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
            out.disabled = true;
            signOut();
        });
    }
}

// Whether the token's exp (read, not verified: the server decides) is past; for a password
// session, the expiry the server gave in seconds from then (immune to a wrong clock here).
export function tokenExpired(token = userToken()) {
    if (token === userToken() && passwordSession()) return expiresIn() <= 0;
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

// The sign-in form's markup: static (no data from anywhere goes into it), the strings are set
// after. Two ways in: a user name and a password (vms-login), or "use an access token", which
// swaps the fields for today's paste box (an external identity provider's JWT).
const FORM = `<p class="notice" data-role="signin-notice" hidden></p>
    <p class="error" data-role="signin-error" role="alert" hidden></p>
    <div class="fields" data-mode="password">
        <label for="signin-user" data-i18n="username_label"></label>
        <input id="signin-user" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64">
        <label for="signin-password" data-i18n="password_label"></label>
        <input id="signin-password" name="password" type="password" autocomplete="current-password">
    </div>
    <div class="fields" data-mode="token" hidden>
        <label for="token-input" data-i18n="token_label"></label>
        <textarea id="token-input" autocomplete="off" spellcheck="false"></textarea>
    </div>
    <button type="submit" data-i18n="sign_in"></button>
    <button type="button" class="link" data-role="use-token" data-i18n="use_token"></button>
    <button type="button" class="link" data-role="use-password" data-i18n="use_password" hidden></button>`;

// The answer of a failed sign-in as the user is told it, in the page's language.
function signInError(r) {
    if (r.status === 401) return t('signin_wrong');
    if (r.status === 429) {
        const s = r.retryAfter;
        if (s == null) return t('signin_wait_later');
        return t('signin_wait', { wait: s < 90 ? t('seconds', { n: Math.max(1, s) }) : t('minutes', { n: Math.ceil(s / 60) }) });
    }
    if (r.status === 0) return t('signin_offline');
    if (r.status === 502 || r.status === 503 || r.status === 504) return t('signin_unavailable');
    return t('request_failed', { status: r.status });
}

// Resolves with the user token, asking for one first if there is none (or it has expired: then
// the form says so). A password session whose token expired is renewed first (the refresh
// cookie), without the form; so is a new tab's, when this browser signed in with a password.
export async function signedIn(main) {
    if (userToken() && passwordSession()) {
        if (expiresIn() > 0 || (await refreshSession()) === 'ok') {
            schedule();
            return userToken();
        }
    }
    if (await resumeSession()) {
        const out = document.getElementById('signout');
        if (out) out.hidden = false;
        return userToken();
    }
    const expired = userToken() && tokenExpired();
    if (expired) setUserToken('');
    if (userToken()) return userToken();
    const out = document.getElementById('signout');
    if (out) out.hidden = true;
    // the page's own controls wait behind the form (it is the only thing on screen, at any height),
    // the header's too (the mosaic's layout picker is filled once signed in)
    const waiting = [...main.children, document.getElementById('layout')].filter((el) => el && !el.hidden);
    for (const el of waiting) el.hidden = true;
    return new Promise((resolve) => {
        const form = document.createElement('form');
        form.className = 'signin';
        form.innerHTML = FORM;
        translate(form);
        const $ = (sel) => form.querySelector(sel);
        const notice = $('[data-role=signin-notice]');
        const why = expired ? 'session_expired' : takeNotice();
        notice.hidden = !why;
        notice.textContent = why ? t(why) : '';
        const error = $('[data-role=signin-error]');
        const say = (text) => {
            error.hidden = !text;
            error.textContent = text || '';
        };
        const mode = (m) => {
            form.dataset.mode = m;
            sessionStorage.setItem('vms.signin-mode', m);
            for (const f of form.querySelectorAll('.fields')) f.hidden = f.dataset.mode !== m;
            $('[data-role=use-token]').hidden = m === 'token';
            $('[data-role=use-password]').hidden = m === 'password';
            say('');
            (m === 'token' ? $('#token-input') : $('#signin-user')).focus();
        };
        $('[data-role=use-token]').addEventListener('click', () => mode('token'));
        $('[data-role=use-password]').addEventListener('click', () => mode('password'));
        const done = (token) => {
            form.remove();
            for (const el of waiting) el.hidden = false;
            if (out) out.hidden = false;
            resolve(token);
        };
        const submit = $('button[type=submit]');
        form.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            if (submit.disabled) return;
            if (form.dataset.mode === 'token') {
                const v = $('#token-input').value.trim();
                if (!v) return;
                setUserToken(v);
                done(v);
                return;
            }
            const user = $('#signin-user').value.trim();
            const password = $('#signin-password').value;
            if (!user || !password) {
                say(t('signin_missing'));
                (user ? $('#signin-password') : $('#signin-user')).focus();
                return;
            }
            submit.disabled = true;
            say('');
            const r = await passwordSignIn(user, password);
            submit.disabled = false;
            if (r.ok) {
                done(userToken());
                return;
            }
            say(signInError(r));
            const pw = $('#signin-password');
            pw.value = '';
            pw.focus();
        });
        main.append(form);
        // the way this tab signed in last time (an external identity provider's user pastes again)
        mode(sessionStorage.getItem('vms.signin-mode') === 'token' ? 'token' : 'password');
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
