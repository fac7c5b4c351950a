// Signing in with a user name and a password (issue #14 item 1, docs/users.md): the mosaic opened
// with no session shows the sign-in form; a wrong password gets the one message every 401 gets, a
// user name locked after too many the wait vms-login's 429 gives;
// the right one signs in (vms-login, a user made with `vms-user add --password-stdin`) and a tile
// plays; the token is renewed through the refresh cookie, without the form, when it has expired
// and when the server refuses it; sign-out ends the session on the server and brings the form
// back; a token pasted by hand is never renewed; offline and with vms-login stopped (SIGSTOP) the
// form says so.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, env, openBrowser, pasteToken, screenshot, stepper } from './lib.mjs';

const FORM = 'form.signin';
const playingTile = () => [...document.querySelectorAll('.tile .vms-player')].some((p) => p.dataset.state === 'playing');
// what the page shows, for a failure message
const view = () => JSON.stringify({
    form: document.querySelector('form.signin') ? {
        mode: document.querySelector('form.signin').dataset.mode,
        notice: document.querySelector('form.signin [data-role=signin-notice]')?.textContent,
        error: document.querySelector('form.signin [data-role=signin-error]')?.textContent,
    } : null,
    banner: document.querySelector('#banner')?.hidden ? null : document.querySelector('#banner')?.textContent,
    tiles: [...document.querySelectorAll('.tile')].map((t) => `${t.dataset.camera}=${t.querySelector('.vms-player')?.dataset.state || t.dataset.mode}`),
});

async function submitPassword(page, user, password) {
    await page.fill('#signin-user', user);
    await page.fill('#signin-password', password);
    await page.click(`${FORM} button[type=submit]`);
}

// Submits and returns the error the form shows for this answer (the last one hidden first).
async function formError(page, user, password) {
    await page.evaluate(() => {
        document.querySelector('form.signin [data-role=signin-error]').hidden = true;
    });
    await submitPassword(page, user, password);
    await page.waitForSelector(`${FORM} [data-role=signin-error]:not([hidden])`, { timeout: 30_000 });
    return page.textContent(`${FORM} [data-role=signin-error]`);
}

test('sign in with a password, play, renew silently, sign out', async () => {
    const user = env('VMS_SIGNIN_USER');
    const password = env('VMS_SIGNIN_PASSWORD');
    const loginPid = Number(env('VMS_LOGIN_PID'));
    let stopped = false;
    const b = await openBrowser();
    const refreshes = [];
    b.context.on('request', (r) => r.url().endsWith('/api/auth/refresh') && refreshes.push(r.method()));
    let page;
    const step = stepper(() => page, view);
    try {
        page = await b.page();
        await page.goto(`${BASE()}/index.html`);
        await step('the form, user name and password first', async () => {
            await page.waitForSelector(`${FORM} #signin-user`, { timeout: 20_000 });
            assert.equal(await page.getAttribute('#signin-user', 'autocomplete'), 'username');
            assert.equal(await page.getAttribute('#signin-password', 'autocomplete'), 'current-password');
            assert.equal(await page.getAttribute('#signin-password', 'type'), 'password');
            assert.equal(await page.textContent('label[for=signin-user]'), 'Usuário');
            assert.equal(await page.textContent('label[for=signin-password]'), 'Senha');
            assert.equal(await page.isHidden('#token-input'), true);
            assert.equal(await page.isHidden('#signout'), true);
        });

        await step('a wrong password: one message, in the page\'s language', async () => {
            await submitPassword(page, user, 'not the password');
            await page.waitForSelector(`${FORM} [data-role=signin-error]:not([hidden])`, { timeout: 30_000 });
            assert.equal(await page.textContent(`${FORM} [data-role=signin-error]`), 'Usuário ou senha incorretos.');
            assert.equal(await page.inputValue('#signin-password'), '');
            await screenshot(page, 'signin-wrong-password');
            // a user name nobody has: the same words (the server's 401 says nothing about who exists)
            assert.equal(await formError(page, 'nobody-here', 'not the password'), 'Usuário ou senha incorretos.');
        });

        await step('a user name locked after VMS_SIGNIN_MAX_FAILURES wrong passwords: the wait, from Retry-After', async () => {
            const max = Number(env('VMS_SIGNIN_MAX_FAILURES'));
            const name = `locked-${process.pid}`;   // a name of this run's own: a retry starts unlocked
            for (let i = 0; i < max; i++) assert.equal(await formError(page, name, `wrong ${i}`), 'Usuário ou senha incorretos.');
            // the window (15 min) less the moments since the first failure, in minutes
            assert.match(await formError(page, name, 'wrong again'), /^Muitas tentativas\. Tente novamente em 1[45] min\.$/);
            await screenshot(page, 'signin-locked');
        });

        await step('the right password: signed in, a tile plays', async () => {
            await submitPassword(page, user, password);
            await page.waitForSelector(FORM, { state: 'detached', timeout: 30_000 });
            await page.waitForFunction(playingTile, null, { timeout: 60_000, polling: 250 });
            assert.equal(await page.isVisible('#signout'), true);
            // the refresh token stays out of the page's reach (HttpOnly), the user token in sessionStorage
            assert.doesNotMatch(await page.evaluate(() => document.cookie), /vms_refresh/);
            assert.equal(await page.evaluate(() => sessionStorage.getItem('vms.auth')), 'password');
            await screenshot(page, 'signin-mosaic');
        });
        const first = await page.evaluate(() => sessionStorage.getItem('vms.token'));

        await step('an expired token is renewed without the form', async () => {
            const before = refreshes.length;
            await page.evaluate(() => sessionStorage.setItem('vms.expires', '1'));
            await page.reload();
            await page.waitForFunction(playingTile, null, { timeout: 60_000, polling: 250 });
            assert.equal(await page.$(FORM), null);
            assert.equal(refreshes.length, before + 1);
            assert.notEqual(await page.evaluate(() => sessionStorage.getItem('vms.token')), first);
        });

        await step('a token the server refuses is renewed once and the request sent again', async () => {
            const before = refreshes.length;
            // the same token with its signature changed: not expired here, refused by nginx
            await page.evaluate(() => {
                const t = sessionStorage.getItem('vms.token');
                const i = t.lastIndexOf('.') + 5;
                sessionStorage.setItem('vms.token', t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1));
            });
            await page.reload();
            await page.waitForFunction(playingTile, null, { timeout: 60_000, polling: 250 });
            assert.equal(await page.$(FORM), null);
            assert.equal(await page.isHidden('#banner'), true);
            assert.equal(refreshes.length, before + 1);
        });
        await step('a new tab of the same browser: signed in by the refresh cookie, no form', async () => {
            const before = refreshes.length;
            const tab = await b.page();
            try {
                await tab.goto(`${BASE()}/index.html`);
                // the mosaic with its tiles and the sign-out button (the tiles may not play: the
                // first tab holds the viewer's plan's streams)
                await tab.waitForSelector('.tile .vms-player', { timeout: 30_000 });
                assert.equal(await tab.isVisible('#signout'), true);
                assert.equal(await tab.$(FORM), null);
                assert.equal(await tab.evaluate(() => sessionStorage.getItem('vms.auth')), 'password');
                assert.equal(refreshes.length, before + 1);
            } finally {
                await tab.close();
            }
        });
        const last = await page.evaluate(() => sessionStorage.getItem('vms.token'));

        await step('sign-out: the form again, the token refused, no session to renew', async () => {
            await page.click('#signout');
            await page.waitForSelector(`${FORM} [data-role=signin-notice]:not([hidden])`, { timeout: 20_000 });
            assert.equal(await page.textContent(`${FORM} [data-role=signin-notice]`), 'Você saiu.');
            assert.equal(await page.evaluate(() => sessionStorage.getItem('vms.token')), null);
            await screenshot(page, 'signin-signed-out');
            // the server revoked the token (its jti), not only this tab forgot it; nginx may reuse
            // a "not revoked" answer for vms_auth_revocation_cache (5 s): wait for the refusal
            const statusOf = (t) => page.evaluate(async (tok) => (await fetch('/api/cameras', {
                headers: { Authorization: `Bearer ${tok}` }, cache: 'no-store',
            })).status, t);
            let status = 0;
            for (const deadline = Date.now() + 30_000; Date.now() < deadline; await page.waitForTimeout(500)) {
                status = await statusOf(last);
                if (status === 401) break;
            }
            assert.equal(status, 401);
            // the refresh cookie is gone: a password session put back by hand cannot be renewed,
            // and the form says the session expired
            const before = refreshes.length;
            await page.evaluate((t) => {
                sessionStorage.setItem('vms.token', t);
                sessionStorage.setItem('vms.auth', 'password');
                sessionStorage.setItem('vms.expires', '1');
            }, last);
            await page.reload();
            await page.waitForSelector(`${FORM} [data-role=signin-notice]:not([hidden])`, { timeout: 20_000 });
            assert.equal(await page.textContent(`${FORM} [data-role=signin-notice]`), 'Sua sessão expirou. Entre novamente.');
            assert.equal(refreshes.length, before + 1);
            // nor does a new tab try: signing out forgot that this browser had a session
            const tab = await b.page();
            await tab.goto(`${BASE()}/index.html`);
            await tab.waitForSelector(`${FORM} #signin-user`, { timeout: 20_000 });
            assert.equal(refreshes.length, before + 1);
            await tab.close();
        });

        await step('a pasted token is never renewed', async () => {
            const before = refreshes.length;
            await pasteToken(page, env('VMS_FOREIGN_TOKEN'));
            await page.waitForSelector('#banner[data-kind=session]:not([hidden])', { timeout: 20_000 });
            assert.equal(refreshes.length, before);
        });

        await step('no network: said in the form, in English when the page is', async () => {
            await page.goto(`${BASE()}/index.html?lang=en`);
            await page.evaluate(() => sessionStorage.clear());
            await page.reload();
            await page.waitForSelector(`${FORM} #signin-user`, { timeout: 20_000 });
            await b.context.setOffline(true);
            await submitPassword(page, user, password);
            await page.waitForSelector(`${FORM} [data-role=signin-error]:not([hidden])`, { timeout: 20_000 });
            assert.equal(await page.textContent(`${FORM} [data-role=signin-error]`),
                'No connection to the server. Check the network and try again.');
            await b.context.setOffline(false);
        });

        await step('vms-login not answering: "unavailable" (nginx\'s 504 after its 10 s read timeout)', async () => {
            await page.goto(`${BASE()}/index.html`);
            await page.waitForSelector(`${FORM} #signin-user`, { timeout: 20_000 });
            process.kill(loginPid, 'SIGSTOP');
            stopped = true;
            assert.equal(await formError(page, user, password), 'O acesso está indisponível no momento. Tente novamente mais tarde.');
            await screenshot(page, 'signin-unavailable');
        });
    } catch (e) {
        await b.dump('signin');
        throw e;
    } finally {
        if (stopped) process.kill(loginPid, 'SIGCONT');
        await b.close();
    }
});
