// index.html: sign in, fetch the camera list and the stream limit, run the mosaic.
import { ApiError, cameras, streamLimit } from './api.js';
import { t } from './i18n.js';
import { Mosaic } from './mosaic.js';
import { banner, setupHeader, signedIn } from './page.js';
import { claims } from './session.js';

async function limitOf() {
    try {
        return (await streamLimit()).limit;
    } catch (e) {
        // Without the limit endpoint, the token's own claim; the server enforces either way.
        const c = claims();
        const n = Number(c.max_concurrent_streams);
        if (n > 0) return n;
        if (e instanceof ApiError && e.serverDown) throw e;
        return 1;
    }
}

async function main() {
    setupHeader();
    const mainEl = document.getElementById('main');
    await signedIn(mainEl);
    let list;
    let limit;
    try {
        [list, limit] = await Promise.all([cameras(), limitOf()]);
    } catch (e) {
        if (e instanceof ApiError && e.serverDown) banner('maintenance', t('maintenance'));
        else if (e instanceof ApiError && (e.status === 401 || e.status === 403)) banner('server', t('not_authorized'));
        else banner('server', String(e.message || e));
        return;
    }
    const only = new URLSearchParams(location.search).get('cameras');
    if (only) {
        const want = only.split(',');
        list = want.map((id) => list.find((c) => c.id === id) || { id, status: 'unknown' });
    }
    if (!list.length) {
        banner('server', t('no_cameras'));
        return;
    }
    const grid = document.createElement('div');
    grid.id = 'mosaic';
    mainEl.append(grid);
    const mosaic = new Mosaic(grid, list, limit, window.vmsPlayerOptions || {});
    window.vmsMosaic = mosaic;
    const streams = document.getElementById('streams');
    let limitText = '';
    mosaic.addEventListener('limit', (ev) => {
        limitText = t('limit_reached', { limit: ev.detail.limit });
        banner('limit', limitText);
    });
    mosaic.addEventListener('change', (ev) => {
        const d = ev.detail;
        streams.textContent = t('streams_in_use', { active: d.live, limit: d.limit });
        if (d.allDown) banner('maintenance', t('maintenance'));
        else if (d.serverDown) banner('server', t('server_down'));
        else if (limitText && d.live >= d.limit) banner('limit', limitText);
        else banner('', '');
    });
    mosaic.start();
}

main();
