// index.html: sign in, fetch the camera list and the stream limit, run the mosaic.
import { ApiError, cameras } from './api.js';
import { t } from './i18n.js';
import { Mosaic } from './mosaic.js';
import { banner, bannerError, setupHeader, signedIn } from './page.js';
import { prefs } from './prefs.js';
import { claims } from './session.js';

// The stream limit when the token states it; otherwise null and the mosaic
// learns it from the server's first refusal (the server enforces it either way).
function limitOf() {
    const n = Number(claims().max_concurrent_streams);
    return n > 0 ? n : null;
}

// Only the cameras the token names, when it names some (the server checks each stream anyway).
function allowed(list) {
    const c = claims();
    const ids = Array.isArray(c.cameras) ? c.cameras : c.camera_id ? [c.camera_id] : null;
    return ids ? list.filter((cam) => ids.includes(cam.id)) : list;
}

async function main() {
    setupHeader();
    const mainEl = document.getElementById('main');
    await signedIn(mainEl);
    let list;
    const limit = limitOf();
    try {
        list = allowed(await cameras());
    } catch (e) {
        if (e instanceof ApiError && e.serverDown) banner('maintenance', t('maintenance'));
        else bannerError(e);
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
    // the cameras with their state (vmsd's), each a link to its own page
    const strip = document.createElement('ul');
    strip.id = 'camera-list';
    strip.className = 'camera-list';
    const showStates = (states) => {
        strip.replaceChildren(...list.map((c) => {
            const li = document.createElement('li');
            const a = document.createElement('a');
            const state = (states && states.get(c.id)) || c.status || 'unknown';
            li.dataset.camera = c.id;
            li.dataset.state = state;
            a.href = `player.html?camera=${encodeURIComponent(c.id)}`;
            a.textContent = c.id;
            a.title = t(`state_${state}`);
            li.append(a);
            return li;
        }));
    };
    showStates(null);
    const grid = document.createElement('div');
    grid.id = 'mosaic';
    mainEl.append(strip, grid);
    const mosaic = new Mosaic(grid, list, limit, window.vmsPlayerOptions || {});
    window.vmsMosaic = mosaic;
    // layout: automatic (every camera on screen) or a number of columns, kept in the preferences
    const layoutSel = document.getElementById('layout');
    if (layoutSel) {
        layoutSel.add(new Option(t('layout_auto'), 'auto'));
        for (const n of [1, 2, 3, 4]) layoutSel.add(new Option(`${n}×${n}`, String(n)));
        layoutSel.value = String(prefs.get('layout', 'auto'));
        if (!layoutSel.value) layoutSel.value = 'auto';
        mosaic.setColumns(layoutSel.value);
        layoutSel.addEventListener('change', () => {
            prefs.set('layout', layoutSel.value);
            mosaic.setColumns(layoutSel.value);
        });
    }
    const streams = document.getElementById('streams');
    let limitText = '';
    mosaic.addEventListener('limit', (ev) => {
        limitText = t('limit_reached', { limit: ev.detail.limit });
        banner('limit', limitText);
    });
    mosaic.addEventListener('change', (ev) => {
        const d = ev.detail;
        if (d.limit && d.live < d.limit) limitText = '';   // a slot is free again: the refusal is history
        streams.textContent = d.limit ? t('streams_in_use', { active: d.live, limit: d.limit }) : '';
        if (d.allDown) banner('maintenance', t('maintenance'));
        else if (d.serverDown) banner('server', t('server_down'));
        else if (limitText && d.live >= d.limit) banner('limit', limitText);
        else banner('', '');
        mosaic.layout();   // a banner shown or gone moves the grid: keep every row on screen
    });
    mosaic.start();
    // Camera states from vmsd, refreshed: every camera offline, or vmsd unreachable, while no
    // tile plays is "Sistema em manutenção".
    setInterval(async () => {
        try {
            const fresh = await cameras();
            const states = new Map(fresh.map((c) => [c.id, c.status]));
            mosaic.setStatuses(states);
            showStates(states);
        } catch (e) {
            if (e instanceof ApiError && e.serverDown) {
                mosaic.setStatuses(null);
                showStates(new Map(list.map((c) => [c.id, 'unreachable'])));   // not the last known states
            }
        }
    }, (window.vmsPlayerOptions || {}).statusMs || 15_000);
    addEventListener('pagehide', () => mosaic.stop());
}

main();
