// Shared helpers of the browser tests: Debian's Chromium through
// playwright-core (no browser download), a fresh profile per browser, the
// stack's addresses from the environment (set by tests/system/test_browser.py),
// screenshots under tests/artifacts/browser/.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = process.env.VMS_ARTIFACTS || path.join(here, '..', 'artifacts', 'browser');

export function env(name) {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set: run these tests through tests/system/test_browser.py`);
    return v;
}

export const BASE = () => env('VMS_BASE_URL');

// A browser with its own new profile; close() removes the profile.
export async function openBrowser() {
    const profile = mkdtempSync(path.join(tmpdir(), 'vms-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: process.env.VMS_CHROMIUM || '/usr/bin/chromium',
        headless: true,
        viewport: { width: 1280, height: 720 },
        args: [
            '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync',
            // WebRTC on loopback only (the WHEP test peer offers 127.0.0.1 candidates)
            '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
        ],
    });
    const logs = [];
    context.on('page', (page) => {
        page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
        page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
        // refused requests, without their query (tokens)
        page.on('response', (r) => r.status() >= 400
            && logs.push(`http ${r.status()} ${r.request().method()} ${r.url().split('?')[0]}`));
    });
    return {
        context,
        logs,
        // A new tab, signed in with token the way a user does (signIn), or not signed in.
        async page(token) {
            const page = await context.newPage();
            if (token) await signIn(page, token);
            return page;
        },
        // After a failure: a screenshot of every open page and the pages' console, kept as artifacts.
        async dump(name) {
            mkdirSync(ARTIFACTS, { recursive: true });
            const pages = context.pages();
            for (let i = 0; i < pages.length; i++) {
                await pages[i].screenshot({ path: path.join(ARTIFACTS, `${name}-failed-${i}.png`) }).catch(() => {});
            }
            // appended: a file that fails, then fails again on its retry, keeps both runs' lines
            appendFileSync(path.join(ARTIFACTS, `${name}-failed.log`), `--- ${new Date().toISOString()}\n${logs.join('\n')}\n`);
        },
        async close() {
            await context.close();
            rmSync(profile, { recursive: true, force: true });
        },
    };
}

// Signs in the way a user with an access token does (the README's `./build.sh token`, or an
// external identity provider's JWT): "use an access token" in the sign-in form, the token
// pasted. player.html without a camera asks for it, then lists the cameras. The tab keeps the
// session (sessionStorage) for the pages it opens next.
export async function signIn(page, token) {
    await page.goto(`${BASE()}/player.html`);
    await pasteToken(page, token);
    await page.waitForSelector('form.signin', { state: 'detached', timeout: 20_000 });
}

// The sign-in form on screen: switched to the paste box (unless it opens there), token pasted, sent.
export async function pasteToken(page, token) {
    await page.waitForSelector('form.signin', { timeout: 20_000 });
    if (await page.$eval('form.signin', (f) => f.dataset.mode !== 'token')) await page.click('form.signin [data-role=use-token]');
    await page.fill('form.signin textarea', token);
    await page.click('form.signin button[type=submit]');
}

export async function screenshot(page, name) {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path: file });
    return file;
}

// The player's state as a user sees it: state, indicator text, overlay text, video progress.
export function playerView(page, selector = '.vms-player') {
    return page.$eval(selector, (root) => {
        const v = root.querySelector('video');
        const overlay = root.querySelector('[data-role=overlay]');
        return {
            state: root.dataset.state,
            indicator: root.querySelector('[data-role=protocol]').hidden ? '' : root.querySelector('[data-role=protocol]').textContent,
            message: overlay.hidden ? '' : root.querySelector('[data-role=message]').textContent,
            retryVisible: !root.querySelector('[data-role=retry]').hidden,
            readyState: v.readyState,
            currentTime: v.currentTime,
        };
    });
}

// Waits until the player plays (readyState >= 3) and its time advances by `advance` seconds.
export async function waitPlaying(page, { selector = '.vms-player', timeout = 40_000, advance = 1 } = {}) {
    await page.waitForFunction((sel) => {
        const v = document.querySelector(`${sel} video`);
        return v && v.readyState >= 3 && v.currentTime > 0;
    }, selector, { timeout, polling: 200 });
    const t0 = await page.$eval(`${selector} video`, (v) => v.currentTime);
    await page.waitForFunction(([sel, t, a]) => {
        const v = document.querySelector(`${sel} video`);
        return v.readyState >= 3 && v.currentTime >= t + a;
    }, [selector, t0, advance], { timeout, polling: 200 });
    return playerView(page, selector);
}

export async function camsim(camera, action, query = {}) {
    const q = new URLSearchParams(query).toString();
    const res = await fetch(`${env('VMS_CAMSIM_CONTROL')}/camera/${camera}/${action}${q ? `?${q}` : ''}`, { method: 'POST' });
    if (!res.ok) throw new Error(`camsim ${action} ${camera}: HTTP ${res.status}`);
    return res.json().catch(() => ({}));
}

// Steps of a story test: each prints when it finished; a failure says which step, after how long,
// and what the page showed (view runs in the page returned by getPage(), if there is one yet).
export function stepper(getPage, view) {
    const t0 = Date.now();
    const at = () => ((Date.now() - t0) / 1000).toFixed(1);
    return async (name, fn) => {
        try {
            await fn();
            console.log(`${name}: at ${at()} s`);
        } catch (e) {
            const page = getPage();
            const shown = page ? await page.evaluate(view).catch(() => 'page gone') : '';
            e.message = `${name} (at ${at()} s): ${e.message}\npage: ${shown}`;
            throw e;
        }
    };
}
