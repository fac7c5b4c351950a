// The signed-in user's token. Kept in sessionStorage and sent only in the
// Authorization header: long-lived user tokens never go into URLs. Media URLs
// carry short stream tokens scoped to one camera (api.js streamToken).
//
// Two kinds of session (docs/users.md, "pages"):
//   - 'password': signed in with a user name and a password through vms-login
//     (POST /api/auth/login). The server also set the HttpOnly refresh cookie
//     (vms_refresh, Path=/api/auth), so the token is renewed silently before it
//     expires or after a 401 (POST /api/auth/refresh), once per need;
//     A new tab of the same browser starts without a token (sessionStorage is per tab) and is
//     signed in by the same cookie (resumeSession): localStorage remembers only that there
//     may be one (RESUME, no secret), since the page cannot see an HttpOnly cookie;
//   - 'token': a JWT pasted by hand or set by a portal (an external identity
//     provider's). There is no cookie behind it: it is never refreshed.
const KEY = 'vms.token';
const KIND = 'vms.auth';          // 'password' | absent (a pasted token)
const EXPIRES = 'vms.expires';    // ms, local clock: when a password session's token expires
const NOTICE = 'vms.notice';      // an i18n key the next sign-in form shows (why it is there)
const RESUME = 'vms.resume';      // localStorage, '1': this browser may hold a refresh cookie

export function userToken() {
    return sessionStorage.getItem(KEY) || '';
}

// A token pasted by hand (or '' to forget the session).
export function setUserToken(token) {
    sessionStorage.removeItem(KIND);
    sessionStorage.removeItem(EXPIRES);
    clearTimeout(timer);
    if (token) sessionStorage.setItem(KEY, token.trim());
    else sessionStorage.removeItem(KEY);
}

export function passwordSession() {
    return sessionStorage.getItem(KIND) === 'password' && !!userToken();
}

// Claims of a JWT without verifying it: only for display and sizing hints;
// the server checks every request.
export function claims(token = userToken()) {
    try {
        const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
        return JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
    } catch {
        return {};
    }
}

// The notice the sign-in form shows once ('session_expired', 'signed_out'), read and forgotten.
export function takeNotice() {
    const n = sessionStorage.getItem(NOTICE);
    sessionStorage.removeItem(NOTICE);
    return n || '';
}

// The session is over: forget it and bring the sign-in form back, saying why.
export function endSession(notice) {
    setUserToken('');
    if (notice) sessionStorage.setItem(NOTICE, notice);
    location.reload();
}

// A reply of login or refresh: {token, expires_in, ...}. The expiry is kept on the local clock
// (now + expires_in), not read from the token's exp: a browser whose clock is off would refresh
// too late or over and over.
function keep(reply) {
    const ttl = Number(reply.expires_in) > 0 ? Number(reply.expires_in) : 0;
    sessionStorage.setItem(KEY, reply.token);
    sessionStorage.setItem(KIND, 'password');
    if (ttl) sessionStorage.setItem(EXPIRES, String(Date.now() + ttl * 1000));
    else sessionStorage.removeItem(EXPIRES);
    localStorage.setItem(RESUME, '1');
    schedule();
}

// ms until the password session's token expires (Infinity when unknown).
export function expiresIn() {
    const at = Number(sessionStorage.getItem(EXPIRES));
    return at > 0 ? at - Date.now() : Infinity;
}

async function readJSON(res) {
    try {
        return await res.json();
    } catch {
        return {};
    }
}

// Signs in with a user name and a password. Resolves {ok:true} or
// {ok:false, status, retryAfter (s, for 429)}; status 0 = the server was not reached.
export async function passwordSignIn(username, password) {
    let res;
    try {
        res = await fetch('/api/auth/login', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ username, password }),
            cache: 'no-store',
            credentials: 'same-origin',
        });
    } catch {
        return { ok: false, status: 0 };
    }
    if (!res.ok) return { ok: false, status: res.status, retryAfter: retryAfter(res.headers.get('Retry-After')) };
    const reply = await readJSON(res);
    if (!reply.token) return { ok: false, status: 502 };
    keep(reply);
    return { ok: true };
}

// Retry-After: seconds or an HTTP date; null when absent or unreadable.
function retryAfter(v) {
    if (!v) return null;
    if (/^\d+$/.test(v.trim())) return Number(v);
    const at = Date.parse(v);
    return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

// One refresh at a time: concurrent callers in this page share it, and pages of other tabs wait
// for it (Web Locks): each refresh spends the cookie it carries, and the same cookie presented
// twice revokes the whole session on the server. The browser stores the new cookie before the
// fetch resolves, so the next tab's refresh carries it.
let inflight = null;

// Renews a password session's token with the refresh cookie. Resolves 'ok', 'refused' (the
// server ended the session: 401) or 'failed' (not reached, or unavailable: try again later).
// resume: this tab has no session yet; the browser's cookie, if it has one, starts it.
export function refreshSession({ resume = false } = {}) {
    if (!resume && !passwordSession()) return Promise.resolve('refused');
    if (!inflight) {
        const run = async () => {
            let res;
            try {
                res = await fetch('/api/auth/refresh', {
                    method: 'POST',
                    headers: { 'X-Requested-With': 'vms' },
                    cache: 'no-store',
                    credentials: 'same-origin',
                });
            } catch {
                return 'failed';
            }
            if (res.status === 401 || res.status === 400) {
                localStorage.removeItem(RESUME);
                return 'refused';
            }
            if (!res.ok) return 'failed';
            const reply = await readJSON(res);
            if (!reply.token) return 'failed';
            keep(reply);
            return 'ok';
        };
        const locked = navigator.locks ? navigator.locks.request('vms-refresh', run) : run();
        inflight = locked.finally(() => {
            inflight = null;
        });
    }
    return inflight;
}

// A tab without a token, in a browser where a password session was started: signed in by the
// refresh cookie, without the form. Resolves true when it worked.
export async function resumeSession() {
    if (userToken() || !localStorage.getItem(RESUME)) return false;
    return (await refreshSession({ resume: true })) === 'ok';
}

// The token is renewed a little before it expires: a quarter of its lifetime, at most a minute.
// Timers of a hidden tab may run late; then the first 401 refreshes it (api.js), and coming
// back to the tab checks at once.
let timer = 0;
let failures = 0;

export function schedule(delay) {
    clearTimeout(timer);
    if (!passwordSession()) return;
    const left = expiresIn();
    if (!Number.isFinite(left)) return;
    const lifetime = (claims().exp - claims().iat) * 1000;
    const margin = Math.min(60_000, (lifetime > 0 ? lifetime : 240_000) / 4);
    timer = setTimeout(async () => {
        const r = await refreshSession();
        if (r === 'ok') {
            failures = 0;
        } else if (r === 'refused') {
            endSession('session_expired');
        } else if (expiresIn() > 0) {
            // not reached or unavailable: again in a while (2 s, 4 s, ... 30 s) while the token holds
            failures++;
            schedule(Math.min(30_000, 2000 * 2 ** Math.min(failures - 1, 4)));
        }
    }, delay ?? Math.max(0, left - margin));
}

addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') schedule();
});

// Signs out: the server revokes the refresh session (cookie) and the token's jti (bearer), then
// the session is forgotten here. Not waiting more than a few seconds: signing out always works.
export async function signOut() {
    const token = userToken();
    const headers = { 'X-Requested-With': 'vms' };
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
        await fetch('/api/auth/logout', {
            method: 'POST',
            headers,
            cache: 'no-store',
            credentials: 'same-origin',
            signal: AbortSignal.timeout(5000),
        });
    } catch {
        // the token expires by itself; the form comes back anyway
    }
    localStorage.removeItem(RESUME);
    endSession('signed_out');
}
