// The mosaic as a first-time user meets it (issue #19 item 6): at 1280×720 every tile is on
// screen (16:9, no row cut off), in camera order, snapshot tiles say they are pictures and from
// when, the camera list shows each camera's state; a tile downloads its snapshot and goes
// fullscreen; the layout picked is kept; at phone width the tiles stack and the protocol badge
// never covers a tile's buttons.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BASE, env, openBrowser, screenshot } from './lib.mjs';

const overlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

async function tileBoxes(page) {
    return page.$$eval('.tile', (els) => els.map((el) => {
        const r = el.getBoundingClientRect();
        return { camera: el.dataset.camera, x: r.x, y: r.y, width: r.width, height: r.height };
    }));
}

test('the mosaic fits the window, labels snapshots, downloads, keeps its layout, stacks on a phone', async () => {
    const b = await openBrowser();
    try {
        const page = await b.page(env('VMS_MOSAIC_TOKEN'));
        await page.goto(`${BASE()}/index.html`);
        // two tiles play (the free plan), the others are labelled snapshots
        await page.waitForFunction(() => {
            const live = [...document.querySelectorAll('.tile[data-mode=live] .vms-player')]
                .filter((p) => p.dataset.state === 'playing');
            const labels = [...document.querySelectorAll('.tile[data-mode=snapshot] .label')]
                .filter((l) => / · Imagem de \d\d:\d\d:\d\d$/.test(l.textContent));
            return live.length === 2 && labels.length === document.querySelectorAll('.tile').length - 2;
        }, null, { timeout: 60_000, polling: 250 }).catch(async (e) => {
            const seen = await page.$$eval('.tile', (els) => els.map((el) => [el.dataset.camera, el.dataset.mode,
                el.querySelector('.vms-player')?.dataset.state, el.querySelector('.label')?.textContent]));
            throw new Error(`${e.message}; tiles: ${JSON.stringify(seen)}`);
        });
        await screenshot(page, 'mosaic-fit-1280');
        const boxes = await tileBoxes(page);
        assert.deepEqual(boxes.map((x) => x.camera), ['cam1', 'cam2', 'cam3', 'cam4', 'cam5']);
        for (const x of boxes) {
            assert.ok(x.y >= 0 && x.y + x.height <= 720 + 0.5 && x.x + x.width <= 1280 + 0.5, `${x.camera} off screen: ${JSON.stringify(x)}`);
            assert.ok(Math.abs(x.width / x.height - 16 / 9) < 0.02, `${x.camera} is not 16:9`);
        }
        const label = await page.textContent('.tile[data-mode=snapshot] .label');
        assert.match(label, /^cam\d · Imagem de \d\d:\d\d:\d\d$/);
        // the camera list: every camera, in order, with vmsd's state, linking to its page
        const list = await page.$$eval('#camera-list li', (lis) => lis.map((li) => [li.dataset.camera, li.dataset.state,
            li.querySelector('a').getAttribute('href')]));
        assert.deepEqual(list.map((x) => x[0]), ['cam1', 'cam2', 'cam3', 'cam4', 'cam5']);
        for (const [cam, state, href] of list) {
            assert.equal(href, `player.html?camera=${cam}`);
            assert.equal(state, 'online', `${cam} as /api/cameras says`);
        }

        // a tile's snapshot downloaded: {camera}-{YYYYMMDD-HHMMSS}.jpg, a JPEG
        const [download] = await Promise.all([
            page.waitForEvent('download', { timeout: 20_000 }),
            page.click('.tile[data-camera=cam3] [data-role=download]'),
        ]);
        assert.match(download.suggestedFilename(), /^cam3-\d{8}-\d{6}\.jpg$/);
        const bytes = readFileSync(await download.path());
        assert.equal(bytes[0], 0xff);
        assert.equal(bytes[1], 0xd8);

        // fullscreen: the tile itself, and back
        await page.click('.tile[data-camera=cam3] [data-role=fullscreen]');
        await page.waitForFunction(() => document.fullscreenElement?.dataset.camera === 'cam3', null, { timeout: 10_000 });
        await page.click('.tile[data-camera=cam3] [data-role=fullscreen]');
        await page.waitForFunction(() => !document.fullscreenElement, null, { timeout: 10_000 });

        // a layout picked is kept across visits
        await page.selectOption('#layout', '3');
        assert.equal(await page.getAttribute('#mosaic', 'data-cols'), '3');
        await page.reload();
        await page.waitForSelector('#mosaic[data-cols="3"]', { timeout: 20_000 });
        assert.equal(await page.inputValue('#layout'), '3');
        await page.selectOption('#layout', 'auto');

        // phone width: one column, and no badge over a tile's buttons
        await page.setViewportSize({ width: 390, height: 844 });
        await page.waitForSelector('#mosaic[data-cols="1"]', { timeout: 10_000 });
        await page.waitForFunction(() => [...document.querySelectorAll('.tile[data-mode=live] .vms-player[data-state=playing] [data-role=protocol]')]
            .filter((el) => !el.hidden).length === 2, null, { timeout: 30_000 });
        await screenshot(page, 'mosaic-phone');
        const playing = await page.$$eval('.tile[data-mode=live] .vms-player[data-state=playing]',
            (els) => els.map((el) => el.closest('.tile').dataset.camera));
        assert.equal(playing.length, 2);
        for (const cam of playing) {
            const badge = await page.locator(`.tile[data-camera=${cam}] [data-role=protocol]`).boundingBox();
            for (const btn of await page.locator(`.tile[data-camera=${cam}] .tile-bar > *`).all()) {
                const bb = await btn.boundingBox();
                assert.ok(!overlap(badge, bb), `${cam}: the badge covers ${await btn.textContent()}`);
            }
        }
        // full-width tiles, one under the other; the header's controls all on screen
        const phone = await tileBoxes(page);
        for (const x of phone) assert.ok(x.x >= 0 && x.x + x.width <= 390 + 0.5 && x.width >= 370, `${x.camera}: ${JSON.stringify(x)}`);
        for (const sel of ['#lang', '#layout', '#signout', 'header nav a:last-child']) {
            const bb = await page.locator(sel).boundingBox();
            assert.ok(bb && bb.x >= 0 && bb.x + bb.width <= 390 + 0.5, `${sel} off screen: ${JSON.stringify(bb)}`);
        }
    } catch (e) {
        await b.dump('mosaic');
        throw e;
    } finally {
        await b.close();
    }
});
