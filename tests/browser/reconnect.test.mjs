// Camera drop: the picture stalls, the player shows "Reconectando..." over
// the camera's last snapshot, and plays again by itself once the camera is back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, camsim, env, openBrowser, screenshot, waitPlaying } from './lib.mjs';

test('camsim drop shows Reconectando... and playback recovers after resume', async () => {
    const camera = env('VMS_DROP_CAMERA');
    const b = await openBrowser();
    try {
        const page = await b.page(env('VMS_USER_TOKEN'));
        await page.goto(`${BASE()}/player.html?camera=${camera}`);
        await waitPlaying(page);
        await camsim(camera, 'drop');
        // the overlay as the user sees it, read in one go
        const during = await (await page.waitForFunction(() => {
            const root = document.querySelector('.vms-player');
            const m = root.querySelector('[data-role=message]');
            const poster = root.querySelector('.poster');
            const shown = !m.closest('[data-role=overlay]').hidden && m.textContent === 'Reconectando...';
            // the camera's last snapshot stays on screen under the message
            return shown && !poster.hidden && poster.naturalWidth > 0 && { state: root.dataset.state, message: m.textContent };
        }, null, { timeout: 30_000, polling: 100 })).jsonValue();
        await screenshot(page, 'reconnecting');
        assert.equal(during.message, 'Reconectando...');
        assert.notEqual(during.state, 'playing');
        await camsim(camera, 'resume');
        const after = await waitPlaying(page, { timeout: 90_000, advance: 2 });
        await screenshot(page, 'recovered');
        assert.equal(after.state, 'playing');
        assert.equal(after.message, '');
    } catch (e) {
        await b.dump('reconnect');
        throw e;
    } finally {
        await b.close();
    }
});
