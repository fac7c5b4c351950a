// What every page shares: the language picker, the sign-in box (a pasted
// user token, kept in sessionStorage), the banner line.
import { LANGUAGES, lang, setLang, t, translate } from './i18n.js';
import { setUserToken, userToken } from './session.js';
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

// Resolves with the user token, asking for one first if there is none.
export function signedIn(main) {
    if (userToken()) return Promise.resolve(userToken());
    return new Promise((resolve) => {
        const form = document.createElement('form');
        form.className = 'signin';
        form.innerHTML = `<label for="token-input"></label><textarea id="token-input" autocomplete="off"></textarea>
            <button type="submit"></button>`;
        form.querySelector('label').textContent = t('token_label');
        form.querySelector('button').textContent = t('sign_in');
        form.addEventListener('submit', (ev) => {
            ev.preventDefault();
            const v = form.querySelector('textarea').value.trim();
            if (!v) return;
            setUserToken(v);
            form.remove();
            const out = document.getElementById('signout');
            if (out) out.hidden = false;
            resolve(v);
        });
        main.append(form);
    });
}

// kind: 'maintenance' | 'server' | 'limit' | '' (hide)
export function banner(kind, text) {
    const el = document.getElementById('banner');
    if (!el) return;
    el.hidden = !kind;
    el.dataset.kind = kind || '';
    el.textContent = kind ? text : '';
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
