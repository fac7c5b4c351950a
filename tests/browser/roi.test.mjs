// ROI editor: a rectangle dragged over the live picture comes out in the
// camera's source pixels as vmsd's roi_areas line; select + remove empties it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, env, openBrowser, screenshot } from './lib.mjs';

test('ROI editor outputs roi_areas in source pixels', async () => {
    const camera = env('VMS_HLS_CAMERA');
    const b = await openBrowser();
    try {
        const page = await b.page(env('VMS_USER_TOKEN'));
        await page.goto(`${BASE()}/roi.html?camera=${camera}`);
        await page.waitForFunction(() => window.vmsRoi, null, { timeout: 40_000, polling: 200 });
        const source = await page.evaluate(() => window.vmsRoi.source);
        assert.deepEqual(source, { width: 640, height: 360 });   // camsim's frames
        // screen points of source (64,36) and (320,216)
        const pts = await page.evaluate(() => {
            const c = document.getElementById('roi-canvas');
            const box = c.getBoundingClientRect();
            const f = window.vmsRoi.fit(box.width, box.height);
            const at = (x, y) => ({ x: box.left + f.left + x * f.scale, y: box.top + f.top + y * f.scale });
            return [at(64, 36), at(320, 216), at(100, 100)];
        });
        await page.mouse.move(pts[0].x, pts[0].y);
        await page.mouse.down();
        await page.mouse.move(pts[1].x, pts[1].y, { steps: 5 });
        await page.mouse.up();
        const text = await page.locator('#roi-out').inputValue();
        const [section, line] = text.split('\n');
        assert.equal(section, `[camera ${camera}]`);
        const areas = JSON.parse(line.replace(/^roi_areas = /, ''));
        assert.equal(areas.length, 1);
        for (const [k, v] of Object.entries({ x: 64, y: 36, width: 256, height: 180 })) {
            assert.ok(Math.abs(areas[0][k] - v) <= 1, `${k} ${areas[0][k]} vs ${v}`);
        }
        await screenshot(page, 'roi-editor');
        await page.mouse.click(pts[2].x, pts[2].y);
        await page.locator('#roi-delete').click();
        assert.equal((await page.locator('#roi-out').inputValue()).split('\n')[1], 'roi_areas = []');
    } catch (e) {
        await b.dump('roi');
        throw e;
    } finally {
        await b.close();
    }
});
