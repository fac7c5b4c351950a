// Every camera down (vmsd stopped with SIGSTOP: no live stream, no camera
// states): the mosaic says "Sistema em manutenção" with each tile on its last
// snapshot; once vmsd runs again the banner goes and the tiles play by themselves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, env, openBrowser, screenshot } from './lib.mjs';

// how many tiles play (runs in the page; the page's CSP forbids string evaluation)
const playing = (n) => [...document.querySelectorAll('.tile .vms-player')].filter((p) => p.dataset.state === 'playing').length === n;

test('all cameras down shows Sistema em manutenção, then recovers', async () => {
    const vmsd = Number(env('VMS_VMSD_PID'));
    const b = await openBrowser();
    let stopped = false;
    try {
        await b.context.addInitScript(() => {
            window.vmsPlayerOptions = { statusMs: 2000 };
        });
        const page = await b.page(env('VMS_MAINTENANCE_TOKEN'));
        await page.goto(`${BASE()}/index.html?cameras=cam2,cam4`);
        await page.waitForFunction(playing, 2, { timeout: 60_000, polling: 250 });
        assert.equal(await page.locator('#banner').isHidden(), true);
        process.kill(vmsd, 'SIGSTOP');
        stopped = true;
        const banner = page.locator('#banner[data-kind=maintenance]');
        await banner.waitFor({ timeout: 60_000 });
        assert.equal(await banner.textContent(), 'Sistema em manutenção');
        assert.ok(await page.evaluate(playing, 0), 'no tile plays');
        await screenshot(page, 'maintenance');
        process.kill(vmsd, 'SIGCONT');
        stopped = false;
        await page.waitForFunction(playing, 2, { timeout: 120_000, polling: 250 });
        await page.locator('#banner').waitFor({ state: 'hidden', timeout: 30_000 });
        await screenshot(page, 'maintenance-recovered');
    } finally {
        if (stopped) process.kill(vmsd, 'SIGCONT');
        await b.close();
    }
});
