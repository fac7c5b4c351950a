// Playback page: the canvas timeline shows the recorded spans with the gap of
// a camera drop between them, and a click plays the recording from the
// clicked time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, env, openBrowser, screenshot } from './lib.mjs';

test('timeline shows recorded spans and a click seeks to that time', async () => {
    const camera = env('VMS_PLAYBACK_CAMERA');
    const expected = JSON.parse(env('VMS_PLAYBACK_SPANS'));   // [{start, end}] from /timeline
    const day = env('VMS_PLAYBACK_DAY');
    const b = await openBrowser();
    try {
        const page = await b.page(env('VMS_PLAYBACK_TOKEN'));
        await page.goto(`${BASE()}/playback.html?camera=${camera}&day=${day}`);
        await page.waitForFunction(() => window.vmsVod && window.vmsVod.frags.length > 0, null, { timeout: 40_000, polling: 250 });
        const spans = await page.evaluate(() => window.vmsTimeline.spans);
        assert.deepEqual(spans, expected.map((s) => ({ start: Date.parse(s.start), end: Date.parse(s.end) })));
        assert.ok(spans.length >= 2, 'a gap splits the recording');
        // the spans are drawn: the canvas is green inside a span and not in the gap
        const colors = await page.evaluate(([a, gapMid]) => {
            const tl = window.vmsTimeline;
            const c = document.getElementById('timeline');
            const g = c.getContext('2d');
            const px = (t) => [...g.getImageData(Math.round(tl.xOf(t) * devicePixelRatio), 20 * devicePixelRatio, 1, 1).data].slice(0, 3);
            return { inSpan: px(a), inGap: px(gapMid) };
        }, [(spans[0].start + spans[0].end) / 2, (spans[0].end + spans[1].start) / 2]);
        assert.deepEqual(colors.inSpan, [0x2e, 0x9d, 0x5b]);
        assert.notDeepEqual(colors.inGap, [0x2e, 0x9d, 0x5b]);
        // click 2 s into the second span
        const target = spans[1].start + 2000;
        const box = await page.locator('#timeline').boundingBox();
        const x = await page.evaluate((t) => window.vmsTimeline.xOf(t), target);
        const clicked = await page.evaluate((px) => window.vmsTimeline.timeAt(px), x);
        await page.mouse.click(box.x + x, box.y + box.height / 2);
        await page.waitForFunction(() => document.getElementById('video').readyState >= 3, null, { timeout: 20_000 });
        const shown = await page.evaluate(() => ({
            wall: window.vmsVod.wallTime(),
            seekShown: Number(document.getElementById('status').dataset.seekShown),
        }));
        await screenshot(page, 'playback-seek');
        // the picture shown is from the clicked moment (within one 1 s fragment)
        assert.ok(Math.abs(shown.seekShown - clicked) < 1000, `seek shown ${shown.seekShown} vs clicked ${clicked}`);
        assert.ok(shown.wall >= clicked - 1000 && shown.wall < clicked + 5000, `playing at ${shown.wall}, clicked ${clicked}`);
    } catch (e) {
        await b.dump('timeline');
        throw e;
    } finally {
        await b.close();
    }
});
