// Failure states a first-time user meets (issue #19 item 6): each says what happened, in the
// page's language, and offers only what can help. Signing in goes through the form, as a user does.
//   - an unknown camera: "A câmera X não existe." and a way back to the cameras, not a spinner
//     that retries for ever;
//   - a session that expired (or whose token the server refuses): "Sua sessão expirou" and
//     "Entrar novamente", which brings the sign-in form back, not "Acesso negado" with a retry;
//   - the recordings page with such a session: the same words, never the server's English.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, env, openBrowser, pasteToken as signInWithForm, playerView, screenshot } from './lib.mjs';

async function run(name, body) {
    const b = await openBrowser();
    try {
        await body(b);
    } catch (e) {
        await b.dump(name);
        throw e;
    } finally {
        await b.close();
    }
}

test('an unknown camera is said not to exist, and the page offers the camera list', () => run('failures-unknown', async (b) => {
    const page = await b.page();
    await page.goto(`${BASE()}/player.html?camera=nosuchcam`);
    await signInWithForm(page, env('VMS_FAILURE_TOKEN'));
    await page.waitForSelector('.vms-player[data-state=unknown]', { timeout: 40_000 });
    const v = await playerView(page);
    assert.equal(v.message, 'A câmera nosuchcam não existe.');
    assert.equal(v.retryVisible, true);
    assert.equal(await page.textContent('.vms-player [data-role=retry]'), 'Ver as câmeras');
    assert.equal(await page.$eval('.vms-player .spinner', (s) => s.hidden), true);
    await screenshot(page, 'failures-unknown-camera');
    // it stays said: no reconnect loop behind it
    await page.waitForTimeout(12_000);
    assert.equal((await playerView(page)).state, 'unknown');
    await page.click('.vms-player [data-role=retry]');
    await page.waitForURL(/index\.html$/);
}));

test('an expired session asks to sign in again, and the form comes back', () => run('failures-expired', async (b) => {
    const page = await b.page();
    await page.goto(`${BASE()}/player.html?camera=cam2`);
    await signInWithForm(page, env('VMS_EXPIRED_TOKEN'));
    await page.waitForSelector('.vms-player[data-state=signin]', { timeout: 30_000 });
    const v = await playerView(page);
    assert.equal(v.message, 'Sua sessão expirou. Entre novamente.');
    assert.equal(await page.textContent('.vms-player [data-role=retry]'), 'Entrar novamente');
    await screenshot(page, 'failures-expired-player');
    await page.click('.vms-player [data-role=retry]');
    await page.waitForSelector('form.signin', { timeout: 20_000 });
    assert.equal(await page.evaluate(() => sessionStorage.getItem('vms.token')), null);

    // a page opened later in the same tab, the expired token still stored: the form, saying why
    await page.evaluate((t) => sessionStorage.setItem('vms.token', t), env('VMS_EXPIRED_TOKEN'));
    await page.goto(`${BASE()}/playback.html`);
    await page.waitForSelector('form.signin [data-role=signin-notice]:not([hidden])', { timeout: 20_000 });
    assert.equal(await page.textContent('form.signin [data-role=signin-notice]'), 'Sua sessão expirou. Entre novamente.');
    // the form is what is on screen (the page's controls wait behind it), and nobody is signed in
    const box = await page.locator('form.signin button[type=submit]').boundingBox();
    assert.ok(box && box.y + box.height <= 720, `the sign-in button is off screen: ${JSON.stringify(box)}`);
    assert.equal(await page.$eval('.timeline, #timeline', (el) => el.offsetParent === null), true);
    assert.equal(await page.$eval('#signout', (el) => el.hidden), true);
    await screenshot(page, 'failures-expired-playback');
}));

test('a token the server refuses: sign in again, in the page\'s language', () => run('failures-refused', async (b) => {
    const page = await b.page();
    await page.goto(`${BASE()}/playback.html?camera=cam5`);
    await signInWithForm(page, env('VMS_FOREIGN_TOKEN'));
    await page.waitForSelector('#banner[data-kind=session]:not([hidden])', { timeout: 20_000 });
    const banner = await page.textContent('#banner');
    assert.match(banner, /^Sua sessão não é mais válida\. Entre novamente\./);
    await page.waitForFunction(() => document.getElementById('status').textContent !== '', null, { timeout: 20_000 });
    const status = await page.textContent('#status');
    assert.equal(status, 'Sua sessão não é mais válida. Entre novamente.');
    assert.doesNotMatch(banner + status, /token|signature|unauthorized/i);
    await screenshot(page, 'failures-refused-playback');
    await page.click('#banner [data-role=signin-again]');
    await page.waitForSelector('form.signin', { timeout: 20_000 });
    // in English when the page is
    await page.goto(`${BASE()}/player.html?camera=cam2&lang=en`);
    await signInWithForm(page, env('VMS_FOREIGN_TOKEN'));
    await page.waitForSelector('.vms-player[data-state=signin]', { timeout: 30_000 });
    assert.equal((await playerView(page)).message, 'Your session is no longer valid. Please sign in again.');
}));
