// Stream leases over time (free plan: 2 streams; a lease expires 30 s after
// its last request). A WebRTC viewer makes no requests once connected, so the
// player renews its lease (keepalive): after 40 s the user still holds two
// streams and a third is refused. An HLS viewer moves to a new stream token
// before the old one expires, releasing the old lease first, so a user at the
// limit keeps playing across token changes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, env, openBrowser, waitPlaying } from './lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a WebRTC viewer keeps its stream slot beyond the lease idle time', async () => {
    const b = await openBrowser();
    try {
        const token = env('VMS_LEASE_TOKEN');
        const webrtc = await b.page(token);
        await webrtc.goto(`${BASE()}/player.html?camera=${env('VMS_WEBRTC_CAMERA')}`);
        assert.equal((await waitPlaying(webrtc)).indicator, 'Baixa Latência');
        const hls = await b.page(token);
        await hls.goto(`${BASE()}/player.html?camera=${env('VMS_HLS_CAMERA')}`);
        await waitPlaying(hls);
        await sleep(40_000);
        const third = await b.page(token);
        await third.goto(`${BASE()}/player.html?camera=cam4`);
        await third.waitForFunction(() => document.querySelector('.vms-player')?.dataset.state === 'limit', null,
            { timeout: 30_000, polling: 200 });
        assert.equal(await third.locator('[data-role=message]').textContent(), 'Limite de 2 streams atingido');
        assert.equal((await waitPlaying(webrtc)).indicator, 'Baixa Latência');
    } finally {
        await b.close();
    }
});

test('an HLS viewer at the limit keeps playing across stream-token refreshes', async () => {
    const b = await openBrowser();
    try {
        await b.context.addInitScript(() => {
            window.vmsPlayerOptions = { tokenRefreshMs: 5000 };
        });
        const token = env('VMS_REFRESH_TOKEN');
        const other = await b.page(token);
        await other.goto(`${BASE()}/player.html?camera=cam4`);
        await waitPlaying(other);
        const page = await b.page(token);
        await page.goto(`${BASE()}/player.html?camera=${env('VMS_HLS_CAMERA')}`);
        await waitPlaying(page);
        const first = await page.evaluate(() => window.vmsPlayer.token);
        // three refreshes; each release + new lease must not trip the limit (2 of 2 in use)
        await page.waitForFunction((t) => window.vmsPlayer.token !== t, first, { timeout: 30_000, polling: 200 });
        await sleep(12_000);
        const view = await waitPlaying(page, { advance: 2 });
        assert.equal(view.state, 'playing');
        assert.equal(view.message, '');
        const last = await page.evaluate(() => window.vmsPlayer.token);
        assert.notEqual(last, first);
        assert.equal((await waitPlaying(other)).state, 'playing');
    } finally {
        await b.close();
    }
});
