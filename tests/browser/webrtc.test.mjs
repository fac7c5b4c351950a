// WebRTC first: WHEP POST through nginx (vms_auth, vms_limit) to a real WebRTC
// peer (tests/tools/whep on GStreamer's webrtcbin); the picture arrives over
// WebRTC and the indicator reads "Baixa Latência", with no protocol switch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, env, openBrowser, screenshot, waitPlaying } from './lib.mjs';

test('WebRTC (WHEP) plays and reads Baixa Latência', async () => {
    const camera = env('VMS_WEBRTC_CAMERA');
    const b = await openBrowser();
    try {
        const page = await b.page(env('VMS_WEBRTC_TOKEN'));
        await page.goto(`${BASE()}/player.html?camera=${camera}`);
        const view = await waitPlaying(page, { advance: 2 });
        await screenshot(page, 'webrtc-low-latency');
        assert.equal(view.indicator, 'Baixa Latência');
        const stats = await page.evaluate(async () => {
            const pc = window.vmsPlayer.media.pc;
            let frames = 0;
            (await pc.getStats()).forEach((s) => {
                if (s.type === 'inbound-rtp' && s.kind === 'video') frames = s.framesDecoded;
            });
            return { frames, protocol: window.vmsPlayer.protocol, src: !!document.querySelector('video').srcObject };
        });
        assert.equal(stats.protocol, 'webrtc');
        assert.ok(stats.src, 'video plays a MediaStream');
        assert.ok(stats.frames > 10, `frames decoded over WebRTC: ${stats.frames}`);
        assert.deepEqual(await page.evaluate(() => window.vmsProtocolSwitches), []);
    } catch (e) {
        await b.dump('webrtc');
        throw e;
    } finally {
        await b.close();
    }
});
