// WebRTC refused at first (the WHEP peer answers 503 for a while): the player
// falls back to HLS ("Modo Compatível"), tries WebRTC again after
// webrtcRetryMs (60 s by default, 6 s here) and switches back to "Baixa
// Latência" once it works; both switches are events and metric lines.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BASE, env, openBrowser, screenshot, waitPlaying } from './lib.mjs';

test('test_webrtc_fallback_to_hls: HLS while WHEP fails, back to WebRTC on retry', async () => {
    const camera = env('VMS_WEBRTC_CAMERA');
    const b = await openBrowser();
    try {
        await b.context.addInitScript(() => {
            window.vmsPlayerOptions = { webrtcRetryMs: 6000 };
        });
        const page = await b.page(env('VMS_FAILOVER_TOKEN'));
        const refuse = await fetch(`${env('VMS_WHEP_CONTROL')}/control/refuse?seconds=15`, { method: 'POST' });
        assert.equal(refuse.status, 200);
        await page.goto(`${BASE()}/player.html?camera=${camera}`);
        const hls = await waitPlaying(page);
        assert.equal(hls.indicator, 'Modo Compatível');
        await screenshot(page, 'failover-hls');
        // retries every 6 s until the peer accepts again (after 15 s), then switches
        await page.waitForFunction(() => window.vmsPlayer.protocol === 'webrtc', null, { timeout: 60_000, polling: 200 });
        const webrtc = await waitPlaying(page);
        assert.equal(webrtc.indicator, 'Baixa Latência');
        await screenshot(page, 'failover-back-to-webrtc');
        const switches = await page.evaluate(() => window.vmsProtocolSwitches.map((s) => [s.from, s.to]));
        assert.deepEqual(switches, [['webrtc', 'hls'], ['hls', 'webrtc']]);
        const lines = readFileSync(env('VMS_CLIENT_METRICS_LOG'), 'utf8').trim().split('\n')
            .map((l) => JSON.parse(l)).filter((l) => l.user === env('VMS_FAILOVER_SUB'));
        assert.deepEqual(lines.map((l) => [l.camera_id, l.from, l.to]), [[camera, 'webrtc', 'hls'], [camera, 'hls', 'webrtc']]);
    } catch (e) {
        await b.dump('failover');
        throw e;
    } finally {
        await b.close();
    }
});
