// What a first-time user meets (issue #19 item 6, part): every page links the others (live,
// recordings, events, ROI) and has "Sair"; a page about one camera opened without ?camera= lists
// the cameras, in natural order; a mosaic tile opens the single-camera view.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, env, openBrowser, screenshot } from './lib.mjs';

test('pages link each other, camera pickers, a tile opens its camera', async () => {
    const b = await openBrowser();
    try {
        const page = await b.page(env('VMS_USER_TOKEN'));
        // roi.html without a camera: the cameras as links, cam1 … cam5 in order
        await page.goto(`${BASE()}/roi.html`);
        await page.waitForSelector('.camera-picker a', { timeout: 20_000 });
        const links = await page.$$eval('.camera-picker a', (as) => as.map((a) => a.getAttribute('href')));
        assert.deepEqual(links, ['cam1', 'cam2', 'cam3', 'cam4', 'cam5'].map((c) => `roi.html?camera=${c}`));
        await screenshot(page, 'firstrun-roi-picker');
        for (const path of ['index.html?cameras=cam2', 'player.html?camera=cam2', 'playback.html', 'events.html', 'roi.html']) {
            await page.goto(`${BASE()}/${path}`);
            const nav = await page.$$eval('header nav a', (as) => as.map((a) => a.getAttribute('href')));
            assert.deepEqual(nav, ['index.html', 'playback.html', 'events.html', 'roi.html'], path);
            await page.waitForFunction(() => !document.getElementById('signout').hidden, null, { timeout: 10_000 });
        }
        // a tile of the mosaic opens that camera's own page
        await page.goto(`${BASE()}/index.html?cameras=cam2`);
        const open = page.locator('.tile[data-camera="cam2"] a[data-role=open]');
        await open.waitFor({ timeout: 20_000 });
        assert.equal(await open.getAttribute('href'), 'player.html?camera=cam2');
        await open.click();
        await page.waitForURL(/player\.html\?camera=cam2$/);
        assert.equal(await page.textContent('h1'), 'cam2');
        // player.html without a camera: the picker again
        await page.goto(`${BASE()}/player.html`);
        await page.waitForSelector('.camera-picker a[href="player.html?camera=cam1"]', { timeout: 20_000 });
    } catch (e) {
        await b.dump('firstrun');
        throw e;
    } finally {
        await b.close();
    }
});
