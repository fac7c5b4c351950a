// No WHEP endpoint for the camera: the player falls back to HLS (hls.js) at
// once, plays (readyState >= 3, time advancing), reads "Modo Compatível", and
// reports vms_protocol_fallback_total{from=webrtc,to=hls} to nginx; the
// volume is kept across page loads; ?lang=en switches the strings.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BASE, env, openBrowser, screenshot, waitPlaying } from './lib.mjs';

test('HLS fallback plays and reads Modo Compatível', async () => {
    const camera = env('VMS_HLS_CAMERA');
    const b = await openBrowser();
    try {
        const page = await b.page(env('VMS_USER_TOKEN'));
        await page.goto(`${BASE()}/player.html?camera=${camera}`);
        const view = await waitPlaying(page, { advance: 2 });
        await screenshot(page, 'hls-compat-mode');
        assert.equal(view.state, 'playing');
        assert.ok(view.readyState >= 3, `readyState ${view.readyState}`);
        assert.equal(view.indicator, 'Modo Compatível');
        const switches = await page.evaluate(() => window.vmsProtocolSwitches);
        assert.deepEqual(switches.map((s) => [s.cameraId, s.from, s.to]), [[camera, 'webrtc', 'hls']]);
        // the report reached nginx's client-metrics log
        const log = env('VMS_CLIENT_METRICS_LOG');
        const deadline = Date.now() + 10_000;
        let lines = [];
        while (Date.now() < deadline) {
            lines = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
            if (lines.some((l) => l.camera_id === camera)) break;
            await new Promise((r) => setTimeout(r, 200));
        }
        const mine = lines.filter((l) => l.camera_id === camera);
        assert.equal(mine.length, 1, `metric lines for ${camera}: ${JSON.stringify(lines)}`);
        assert.equal(mine[0].name, 'vms_protocol_fallback_total');
        assert.equal(mine[0].from, 'webrtc');
        assert.equal(mine[0].to, 'hls');
        assert.equal(mine[0].user, env('VMS_USER_SUB'));
        // the volume the user sets is kept (localStorage) across page loads
        await page.locator('[data-role=volume]').fill('0.5');
        // English on request
        await page.goto(`${BASE()}/player.html?camera=${camera}&lang=en`);
        const en = await waitPlaying(page);
        assert.equal(en.indicator, 'Compatibility Mode');
        assert.deepEqual(await page.evaluate(() => {
            const v = document.querySelector('video');
            return [v.volume, document.querySelector('[data-role=volume]').value];
        }), [0.5, '0.5']);
    } catch (e) {
        await b.dump('hls');
        throw e;
    } finally {
        await b.close();
    }
});
