// events.html in Chromium against vms-review-api and the live push (started by
// tests/system/test_events_page.py): the list from PostgreSQL with thumbnails, an event produced on
// Kafka (with kcat) appearing live, a camera going offline, nothing of a camera outside the token,
// a click leading to the recording at that moment, English on request.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { BASE, env, openBrowser, screenshot } from '../lib.mjs';

function produce(topic, key, msg) {
    execFileSync('kcat', ['-P', '-b', env('VMS_KAFKA'), '-t', topic, '-k', key], { input: JSON.stringify(msg) + '\n' });
}

function reviewEvent(id, camera, start, state = 'open') {
    return {
        schema: 1, type: 'review.event', ts: start, camera_id: camera, trace_id: id,
        event: { id, camera_id: camera, start, end: start, labels: ['car'], max_score: 0.77, detections: 1,
                 snapshot_detection: null, state },
    };
}

test('events page: list, live events, camera status, click to playback', async () => {
    const b = await openBrowser();
    try {
        const page = await b.page(env('VMS_EVENTS_TOKEN'));
        await page.goto(`${BASE()}/events.html`);
        // the two stored events, newest first, the first with its thumbnail
        await page.waitForFunction(() => document.querySelectorAll('#feed li').length === 2, null, { timeout: 20_000 });
        const ids = await page.$$eval('#feed li', (lis) => lis.map((li) => li.dataset.id));
        assert.deepEqual(ids, ['stored-2', 'stored-1']);
        await page.waitForFunction(() => {
            const img = document.querySelector('#feed li[data-id="stored-2"] img');
            return img && !img.hidden && img.complete && img.naturalWidth === 320;
        }, null, { timeout: 10_000 });
        // live: wait for the subscription, then an event produced on Kafka shows at the top
        await page.waitForFunction(() => document.getElementById('live-state').dataset.state === 'live', null, { timeout: 20_000 });
        const now = new Date().toISOString();
        let shown = false;
        for (let i = 0; i < 30 && !shown; i++) {            // vms-push joins at the live edge: retry
            produce('vms.events', 'cam1', reviewEvent('live-1', 'cam1', now));
            shown = await page.waitForFunction(() => document.querySelector('#feed li[data-id="live-1"]'),
                null, { timeout: 1000 }).then(() => true, () => false);
        }
        assert.ok(shown, 'the live event appeared');
        assert.equal(await page.$eval('#feed li', (li) => li.dataset.id), 'live-1');
        // its update (closed) replaces it in place
        produce('vms.events', 'cam1', reviewEvent('live-1', 'cam1', now, 'closed'));
        await page.waitForFunction(() => document.querySelector('#feed li[data-id="live-1"]').dataset.state === 'closed',
            null, { timeout: 10_000 });
        assert.equal(await page.$$eval('#feed li[data-id="live-1"]', (l) => l.length), 1);
        // a camera outside the token: its event is never pushed to this page
        produce('vms.events', 'cam9', reviewEvent('other-cam', 'cam9', now));
        // camera status, live
        produce('vms.events', 'cam2', { schema: 1, type: 'camera.offline', ts: now, camera_id: 'cam2', trace_id: 'x' });
        await page.waitForFunction(() => document.querySelector('#cameras li[data-camera="cam2"]')?.dataset.state === 'offline',
            null, { timeout: 10_000 });
        produce('vms.events', 'cam1', reviewEvent('live-2', 'cam1', now));
        await page.waitForFunction(() => document.querySelector('#feed li[data-id="live-2"]'), null, { timeout: 10_000 });
        assert.equal(await page.$$eval('#feed li[data-id="other-cam"]', (l) => l.length), 0);
        await screenshot(page, 'events-live');
        // a click opens the recording 5 s before the event
        const href = await page.$eval('#feed li[data-id="stored-2"] a', (a) => a.href);
        const u = new URL(href);
        assert.equal(u.pathname, '/playback.html');
        assert.equal(u.searchParams.get('camera'), 'cam1');
        assert.equal(Number(u.searchParams.get('t')), Date.parse(env('VMS_EVENT2_START')) - 5000);
        await page.click('#feed li[data-id="stored-2"] a');
        await page.waitForURL(/playback\.html/);
        // English
        await page.goto(`${BASE()}/events.html?lang=en`);
        await page.waitForFunction(() => document.querySelectorAll('#feed li').length >= 2, null, { timeout: 20_000 });
        assert.equal(await page.textContent('h1'), 'Events');
        assert.equal(await page.textContent('#ai-cost'), 'Admins only');
        await screenshot(page, 'events-en');
    } catch (e) {
        await b.dump('events');
        throw e;
    } finally {
        await b.close();
    }
});
