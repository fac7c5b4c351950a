// The mosaic never opens more live streams than the user's plan allows
// (free: 2); the other tiles show snapshots; opening one more shows the 429's
// "Limite de 2 streams atingido"; closing a live tile frees its slot at once; a
// recording opened at the limit says so on the playback page.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, env, openBrowser, screenshot } from './lib.mjs';

test('mosaic stays within the stream limit and shows the limit message', async () => {
    const cameras = env('VMS_MOSAIC_CAMERAS');
    const b = await openBrowser();
    try {
        const page = await b.page(env('VMS_LIMIT_TOKEN'));
        await page.goto(`${BASE()}/index.html?cameras=${cameras}`);
        const tiles = cameras.split(',').length;
        // two tiles play, the rest are snapshots with a picture
        await page.waitForFunction((n) => {
            const live = [...document.querySelectorAll('.tile[data-mode=live] .vms-player')]
                .filter((p) => p.dataset.state === 'playing');
            const snaps = [...document.querySelectorAll('.tile[data-mode=snapshot] img')]
                .filter((img) => img.complete && img.naturalWidth > 0);
            return live.length === 2 && snaps.length === n - 2;
        }, tiles, { timeout: 60_000, polling: 250 });
        await screenshot(page, 'mosaic-within-limit');
        assert.equal(await page.locator('.tile[data-mode=live]').count(), 2);
        assert.equal(await page.locator('#streams').textContent(), '2 de 2 streams ao vivo');
        // one more: the server refuses it and the tile says why
        const extra = page.locator('.tile[data-mode=snapshot]').first();
        const id = await extra.getAttribute('data-camera');
        await extra.locator('[data-role=toggle]').click();
        const msg = page.locator(`.tile[data-camera="${id}"] .tile-message`);
        await msg.waitFor({ timeout: 20_000 });
        assert.equal(await msg.textContent(), 'Limite de 2 streams atingido');
        assert.equal(await page.locator('#banner').textContent(), 'Limite de 2 streams atingido');
        assert.equal(await page.locator('.tile[data-mode=live]').count(), 2);
        await screenshot(page, 'mosaic-limit-reached');
        // closing a live tile releases its lease at once: the refused camera now plays
        await page.locator('.tile[data-mode=live]').first().locator('[data-role=toggle]').click();
        await page.locator(`.tile[data-camera="${id}"] [data-role=toggle]`).click();
        await page.waitForFunction((cam) => {
            const p = document.querySelector(`.tile[data-camera="${cam}"] .vms-player`);
            return p && p.dataset.state === 'playing';
        }, id, { timeout: 20_000, polling: 250 });
        assert.equal(await page.locator('.tile[data-mode=live]').count(), 2);
        assert.equal(await page.locator('#banner').isHidden(), true);
        await screenshot(page, 'mosaic-after-release');
        // the same user opens a recording while the mosaic holds both streams: the playback page
        // says why it cannot play (the playlist's 429), not just that it failed
        const pb = await b.page(env('VMS_LIMIT_PLAYBACK_TOKEN'));
        await pb.goto(`${BASE()}/playback.html?camera=${env('VMS_PLAYBACK_CAMERA')}&day=${env('VMS_PLAYBACK_DAY')}`);
        await pb.waitForFunction(() => document.getElementById('status').textContent === 'Limite de 2 streams atingido',
            null, { timeout: 40_000, polling: 250 });
        await screenshot(pb, 'playback-limit-reached');
    } catch (e) {
        await b.dump('limit');
        throw e;
    } finally {
        await b.close();
    }
});
