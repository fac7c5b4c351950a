// Per-node storage (docs/scale-out.md, storage mode (b)): the recordings page, on a front whose
// playback goes through vms-playback-router, plays a camera whose recordings are split between
// two nodes (node-a [0, 60 s) and [100, 120 s), node-b [70, 90 s)): the timeline shows every
// node's part, and playing from near the end of node-a's first part runs on, past the move, into
// node-b's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { env, openBrowser, screenshot } from './lib.mjs';

test('a camera recorded on two nodes plays across the move', async () => {
    process.env.VMS_BASE_URL = env('VMS_PERNODE_URL');      // signIn() and the pages: the per-node front
    const t0 = Number(env('VMS_PERNODE_T0'));
    const b = await openBrowser();
    try {
        const page = await b.page(env('VMS_PERNODE_TOKEN'));
        await page.goto(`${env('VMS_PERNODE_URL')}/playback.html?camera=cam1&day=${env('VMS_PERNODE_DAY')}&t=${t0 + 56000}`);
        await page.waitForFunction(() => {
            const v = document.getElementById('video');
            return v.readyState >= 3 && !v.paused && v.currentTime > 0;
        }, null, { timeout: 40_000, polling: 250 });
        const spans = await page.evaluate(() => window.vmsTimeline.spans.map((s) => [s.start, s.end]));
        assert.deepEqual(spans.map(([s, e]) => [s - t0, e - t0]), [[0, 60000], [70000, 90000], [100000, 120000]]);
        // node-a's last seconds, the 10 s hole skipped, then node-b's part plays
        await page.waitForFunction((w) => window.vmsVod.wallTime() > w, t0 + 73000, { timeout: 30_000, polling: 250 });
        const w = await page.evaluate(() => window.vmsVod.wallTime());
        assert.ok(w < t0 + 90000, `playing at ${w - t0} ms, inside node-b's part`);
        await screenshot(page, 'pernode-across-the-move');
    } catch (e) {
        await b.dump('pernode');
        throw e;
    } finally {
        await b.close();
    }
});
