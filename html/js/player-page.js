// player.html?camera=ID: one camera full size.
import { t } from './i18n.js';
import { banner, cameraPicker, setupHeader, signedIn } from './page.js';
import { VmsPlayer } from './player.js';

async function main() {
    setupHeader();
    const camera = new URLSearchParams(location.search).get('camera') || '';
    document.getElementById('title').textContent = camera;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(camera)) {
        if (camera === '') await cameraPicker(document.getElementById('main'), (id) => `player.html?camera=${encodeURIComponent(id)}`);
        else banner('server', t('no_cameras'));
        return;
    }
    await signedIn(document.getElementById('main'));
    const player = new VmsPlayer(document.getElementById('player'), camera, window.vmsPlayerOptions || {});
    window.vmsPlayer = player;
    window.vmsProtocolSwitches = [];
    player.onProtocolSwitch = (d) => window.vmsProtocolSwitches.push(d);
    player.addEventListener('limit', (ev) => banner('limit', t('limit_reached', { limit: ev.detail.limit })));
    player.addEventListener('statechange', (ev) => {
        if (ev.detail.state === 'server') banner('server', t('server_down'));
        else if (ev.detail.state !== 'limit') banner('', '');
    });
    player.start();
    // End the WHEP session and the stream lease with the page, not at their timeouts.
    addEventListener('pagehide', () => player.stop());
}

main();
