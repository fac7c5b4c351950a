// Every camera down (vmsd stopped with SIGSTOP: no live stream, no camera
// states): the mosaic says "Sistema em manutenção" with each tile on its last
// snapshot; once vmsd runs again the banner goes and the tiles play by themselves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, env, openBrowser, screenshot, stepper } from './lib.mjs';

// how many tiles play (runs in the page; the page's CSP forbids string evaluation)
const playing = (n) => [...document.querySelectorAll('.tile .vms-player')].filter((p) => p.dataset.state === 'playing').length === n;
// the maintenance banner (in pt-BR, the browser's language here) on screen while no tile plays: what a person sees once the outage settled
// (until nginx-rtmp drops the silent publisher, a reloading tile may replay the last segments)
const settledDown = () => document.querySelector('#banner[data-kind=maintenance]:not([hidden])')?.textContent === 'Sistema em manutenção'
    && ![...document.querySelectorAll('.tile .vms-player')].some((p) => p.dataset.state === 'playing');
// what the page shows, for the failure message
const view = () => JSON.stringify({
    banner: document.querySelector('#banner')?.hidden ? null
        : `${document.querySelector('#banner')?.dataset.kind}: ${document.querySelector('#banner')?.textContent}`,
    tiles: [...document.querySelectorAll('.tile')].map((t) => `${t.dataset.camera || '?'}=${t.dataset.mode || ''}/${t.querySelector('.vms-player')?.dataset.state || '-'}`),
    states: [...document.querySelectorAll('#camera-list li')].map((li) => `${li.dataset.camera}=${li.dataset.state}`),
});

test('all cameras down shows Sistema em manutenção, then recovers', async () => {
    const vmsd = Number(env('VMS_VMSD_PID'));
    const b = await openBrowser();
    let stopped = false;
    const step = stepper(() => page, view);
    let page;
    try {
        await b.context.addInitScript(() => {
            window.vmsPlayerOptions = { statusMs: 2000 };
        });
        page = await b.page(env('VMS_MAINTENANCE_TOKEN'));
        await page.goto(`${BASE()}/index.html?cameras=cam2,cam4`);
        await step('both tiles play', () => page.waitForFunction(playing, 2, { timeout: 60_000, polling: 250 }));
        assert.equal(await page.locator('#banner').isHidden(), true);
        process.kill(vmsd, 'SIGSTOP');
        stopped = true;
        await step('maintenance banner, no tile playing', () => page.waitForFunction(settledDown, null, { timeout: 90_000, polling: 250 }));
        // the camera list no longer shows the last known states as if they were current
        await step('camera list says unreachable', () => page.waitForFunction(
            () => [...document.querySelectorAll('#camera-list li')].every((li) => li.dataset.state === 'unreachable'),
            null, { timeout: 30_000, polling: 250 }));
        await screenshot(page, 'maintenance');
        process.kill(vmsd, 'SIGCONT');
        stopped = false;
        await step('both tiles play again', () => page.waitForFunction(playing, 2, { timeout: 120_000, polling: 250 }));
        await step('banner gone', () => page.locator('#banner').waitFor({ state: 'hidden', timeout: 30_000 }));
        await screenshot(page, 'maintenance-recovered');
    } finally {
        if (stopped) process.kill(vmsd, 'SIGCONT');
        await b.close();
    }
});
