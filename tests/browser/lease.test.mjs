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
        await webrtc.bringToFront();   // background tabs may pause their video
        assert.equal((await waitPlaying(webrtc)).indicator, 'Baixa Latência');
    } catch (e) {
        await b.dump('lease');
        throw e;
    } finally {
        await b.close();
    }
});

test('HLS viewers at the limit keep playing across stream-token refreshes', async () => {
    const b = await openBrowser();
    try {
        await b.context.addInitScript(() => {
            window.vmsPlayerOptions = { tokenRefreshMs: 5000 };
        });
        // one page, two HLS tiles: 2 of 2 streams in use
        const page = await b.page(env('VMS_REFRESH_TOKEN'));
        await page.goto(`${BASE()}/index.html?cameras=${env('VMS_HLS_CAMERA')},cam4`);
        const tokens = () => [...window.vmsMosaic.tiles.values()].map((t) => t.player && t.player.state === 'playing' && t.player.token);
        await page.waitForFunction(() => [...window.vmsMosaic.tiles.values()].every((t) => t.player && t.player.state === 'playing'),
            null, { timeout: 60_000, polling: 250 });
        const first = await page.evaluate(tokens);
        // each refresh releases the old lease before the new token opens one: never refused
        await page.waitForFunction((old) => [...window.vmsMosaic.tiles.values()]
            .every((t, i) => t.player && t.player.token !== old[i]), first, { timeout: 30_000, polling: 250 });
        await sleep(12_000);
        for (const sel of ['.tile:nth-child(1) .vms-player', '.tile:nth-child(2) .vms-player']) {
            const view = await waitPlaying(page, { selector: sel, advance: 2 });
            assert.equal(view.state, 'playing');
            assert.equal(view.message, '');
        }
        assert.equal(await page.locator('#banner').isHidden(), true);
        const last = await page.evaluate(tokens);
        assert.ok(last.every((t, i) => t && t !== first[i]), 'both players moved to new stream tokens');
    } catch (e) {
        await b.dump('lease');
        throw e;
    } finally {
        await b.close();
    }
});
