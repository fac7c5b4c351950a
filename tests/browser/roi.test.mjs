// ROI editor: a rectangle dragged over the live picture comes out in the
// camera's source pixels as vmsd's roi_areas; select + remove empties it.
// Saving goes through the cameras API (PATCH /api/cameras/{id}, docs/scale-out.md):
// run by tests/system/test_browser.py twice — on the browser stack, whose vmsd
// takes its cameras from vmsd.conf (409: the page keeps the snippet to copy), and
// with VMS_ROI_CLUSTER=1 on a one-node cluster stack, where an admin's save is
// read back through the API and a reload shows it. A token without
// manage_config is told it may not save, on both.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, env, openBrowser, screenshot } from './lib.mjs';

const CLUSTER = process.env.VMS_ROI_CLUSTER === '1';

// The editor on screen for camera (signed in with token), its status line once the saved areas are read.
async function openEditor(b, token, camera) {
    const page = await b.page(token);
    await page.goto(`${BASE()}/roi.html?camera=${camera}`);
    await page.waitForFunction(() => window.vmsRoi, null, { timeout: 40_000, polling: 200 });
    return page;
}

// Screen points of source pixels.
function screenPoints(page, points) {
    return page.evaluate((pts) => {
        const c = document.getElementById('roi-canvas');
        const box = c.getBoundingClientRect();
        const f = window.vmsRoi.fit(box.width, box.height);
        return pts.map(([x, y]) => ({ x: box.left + f.left + x * f.scale, y: box.top + f.top + y * f.scale }));
    }, points);
}

async function drag(page, from, to) {
    const [a, b] = await screenPoints(page, [from, to]);
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(b.x, b.y, { steps: 5 });
    await page.mouse.up();
}

// The snippet as the page shows it: its section line and its areas.
async function snippet(page) {
    const [section, line] = (await page.locator('#roi-out').inputValue()).split('\n');
    assert.match(line, /^roi_areas = /);
    return { section, areas: JSON.parse(line.replace(/^roi_areas = /, '')) };
}

function near(area, want) {
    for (const [k, v] of Object.entries(want)) assert.ok(Math.abs(area[k] - v) <= 1, `${k} ${area[k]} vs ${v}`);
}

// roi_areas as the API returns it: its list, or the same list as a JSON string.
const listOf = (v) => (typeof v === 'string' ? JSON.parse(v) : v ?? []);

const status = (page) => page.locator('#roi-status').textContent();

async function api(method, camera, token, body) {
    const res = await fetch(`${BASE()}/api/cameras/${camera}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json().catch(() => null) };
}

test('ROI editor outputs roi_areas in source pixels; without manage_config it may not save', async () => {
    const camera = env('VMS_HLS_CAMERA');
    const b = await openBrowser();
    try {
        const page = await openEditor(b, env('VMS_USER_TOKEN'), camera);
        const source = await page.evaluate(() => window.vmsRoi.source);
        assert.deepEqual(source, { width: 640, height: 360 });   // camsim's frames
        // the viewer's token has no manage_config: told so, no Save button, the snippet to copy
        assert.match(await status(page), /manage_config/);
        assert.ok(await page.locator('#roi-save').isHidden());
        await drag(page, [64, 36], [320, 216]);
        const { section, areas } = await snippet(page);
        assert.equal(section, `[camera ${camera}]`);
        assert.equal(areas.length, 1);
        near(areas[0], { x: 64, y: 36, width: 256, height: 180 });
        await screenshot(page, CLUSTER ? 'roi-editor-viewer-cluster' : 'roi-editor');
        const [inside] = await screenPoints(page, [[100, 100]]);
        await page.mouse.click(inside.x, inside.y);
        await page.locator('#roi-delete').click();
        assert.deepEqual((await snippet(page)).areas, []);
    } catch (e) {
        await b.dump('roi');
        throw e;
    } finally {
        await b.close();
    }
});

test('an admin saves the areas through the cameras API, or copies the snippet without cluster', async () => {
    const camera = env('VMS_HLS_CAMERA');
    const admin = env('VMS_ROI_ADMIN_TOKEN');
    const b = await openBrowser();
    try {
        let page = await openEditor(b, admin, camera);
        if (!CLUSTER) {
            // cameras come from vmsd.conf: said so, no Save button, the snippet as before
            assert.equal((await api('GET', camera, admin)).status, 409);
            assert.match(await status(page), /vmsd\.conf/);
            assert.ok(await page.locator('#roi-save').isHidden());
            await drag(page, [64, 36], [320, 216]);
            assert.equal((await snippet(page)).areas.length, 1);
            return;
        }
        const before = await api('GET', camera, admin);
        assert.equal(before.status, 200, JSON.stringify(before.body));
        assert.deepEqual(await page.evaluate(() => window.vmsRoi.value()), listOf(before.body.config.roi_areas));
        assert.ok(await page.locator('#roi-save').isVisible());
        await drag(page, [64, 36], [320, 216]);
        await drag(page, [400, 200], [600, 340]);
        assert.match(await status(page), /não salvas/);
        const { areas } = await snippet(page);
        assert.equal(areas.length, 2);
        // saved from the keyboard: focus on Save, Enter
        await page.locator('#roi-save').focus();
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => document.getElementById('roi-status').dataset.kind === 'ok', null,
            { timeout: 20_000, polling: 100 });
        assert.match(await status(page), /^Salvo/);
        // what the API has now is what the page showed
        const after = await api('GET', camera, admin);
        assert.equal(after.status, 200);
        const stored = listOf(after.body.config.roi_areas);
        assert.deepEqual(stored, areas);
        near(stored[0], { x: 64, y: 36, width: 256, height: 180 });
        near(stored[1], { x: 400, y: 200, width: 200, height: 140 });
        await screenshot(page, 'roi-editor-saved');
        // a new visit shows the saved areas
        await page.close();
        page = await openEditor(b, admin, camera);
        assert.deepEqual(await page.evaluate(() => window.vmsRoi.value()), areas);
        assert.match(await status(page), /salvas na câmera/);
        // cleared and saved: the camera is back to the whole frame
        await page.locator('#roi-clear').click();
        await page.locator('#roi-save').click();
        await page.waitForFunction(() => document.getElementById('roi-status').dataset.kind === 'ok', null,
            { timeout: 20_000, polling: 100 });
        assert.deepEqual(listOf((await api('GET', camera, admin)).body.config.roi_areas), []);
    } catch (e) {
        await b.dump('roi-admin');
        throw e;
    } finally {
        await b.close();
    }
});
