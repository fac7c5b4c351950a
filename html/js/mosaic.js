// Mosaic: a grid of cameras in which at most `limit` tiles play live (the
// user's concurrent stream limit); the others show the camera's snapshot,
// refreshed every 30 s and labelled with its time, with a button to open it
// live. Opening one more than the server allows shows the 429's "Limite de X
// streams atingido" and the tile stays a snapshot. Closing a live tile frees
// its slot. The grid fits the window (1–16 cameras, 16:9 tiles, every row
// on screen; on a phone, full-width tiles one under the other) or follows the
// layout the user picked (1×1 … 4×4 columns);
// each tile opens its camera's page, goes fullscreen, and downloads its
// latest snapshot.
import { t } from './i18n.js';
import { fileStamp, saveAs } from './page.js';
import { VmsPlayer } from './player.js';
import { fetchSnapshot, SnapshotView } from './snapshot.js';

// Columns that give the largest 16:9 tiles for n cameras in width × height (gap between tiles).
export function fitColumns(n, width, height, gap = 4) {
    let best = 1;
    let bestW = 0;
    for (let cols = 1; cols <= Math.max(1, n); cols++) {
        const rows = Math.ceil(n / cols);
        const w = Math.min((width - gap * (cols + 1)) / cols, ((height - gap * (rows + 1)) / rows) * 16 / 9);
        if (w > bestW + 0.5) {
            best = cols;
            bestW = w;
        }
    }
    return { cols: best, tileWidth: Math.floor(bestW) };
}

export class Mosaic extends EventTarget {
    constructor(root, cameraList, limit, playerOptions = {}) {
        super();
        this.root = root;
        this.limit = limit;
        this.playerOptions = playerOptions;
        this.tiles = new Map();
        this.columns = 'auto';
        root.classList.add('mosaic');
        for (const cam of cameraList) this.addTile(cam);
        this.onResize = () => this.layout();
        addEventListener('resize', this.onResize);
        this.layout();
    }

    // columns: 'auto' (every tile on screen, as large as fits) or 1..4.
    setColumns(columns) {
        this.columns = columns;
        this.layout();
    }

    layout() {
        const n = this.tiles.size;
        const width = this.root.clientWidth || innerWidth;
        const height = innerHeight - Math.max(0, this.root.getBoundingClientRect().top);
        let cols;
        let tileWidth;
        if (this.columns === 'auto' && width < 600) {
            cols = 1;      // a phone: full-width tiles, one under the other (the page scrolls)
            tileWidth = width - 8;
        } else if (this.columns === 'auto') ({ cols, tileWidth } = fitColumns(n, width, height));
        else {
            cols = Math.min(Math.max(1, Number(this.columns)), Math.max(1, n));
            tileWidth = Math.floor((width - 4 * (cols + 1)) / cols);
        }
        this.root.style.setProperty('--cols', String(cols));
        this.root.style.setProperty('--tile-w', `${Math.max(120, tileWidth)}px`);
        this.root.dataset.cols = String(cols);
    }

    // Fills the grid: the first `limit` cameras live, the rest snapshots. With
    // the limit unknown, tiles open one after another until the server refuses
    // one; that refusal only sets the limit (no message: the user asked nothing).
    async start() {
        // live slots go to cameras vmsd reports online first (grid order otherwise)
        const rank = (tile) => (tile.cam.status === 'online' ? 0 : tile.cam.status === 'offline' ? 2 : 1);
        const tiles = [...this.tiles.values()].sort((a, b) => rank(a) - rank(b));
        if (this.limit != null) {
            tiles.forEach((tile, i) => (i < this.limit ? this.openLive(tile) : this.showSnapshot(tile)));
            this.changed();
            return;
        }
        for (const tile of tiles) this.showSnapshot(tile);
        for (const tile of tiles) {
            const outcome = await this.openLive(tile, { probing: true });
            if (outcome === 'limit') break;
        }
        this.changed();
    }

    addTile(cam) {
        const el = document.createElement('div');
        el.className = 'tile';
        el.dataset.camera = cam.id;
        el.innerHTML = `<div class="tile-bar"><a data-role="open" class="button"></a>
            <button type="button" data-role="download">⤓</button><button type="button" data-role="fullscreen">⤢</button>
            <button type="button" data-role="toggle"></button></div>
            <div class="tile-body"></div>`;
        const open = el.querySelector('[data-role=open]');
        open.href = `player.html?camera=${encodeURIComponent(cam.id)}`;
        open.textContent = t('open_camera');
        open.title = t('open_camera');
        const download = el.querySelector('[data-role=download]');
        download.title = t('download_snapshot');
        download.setAttribute('aria-label', download.title);
        download.addEventListener('click', () => this.downloadSnapshot(cam.id));
        const full = el.querySelector('[data-role=fullscreen]');
        full.title = t('fullscreen');
        full.setAttribute('aria-label', full.title);
        full.addEventListener('click', () => (document.fullscreenElement === el
            ? document.exitFullscreen() : el.requestFullscreen()).catch(() => {}));
        this.root.append(el);
        const tile = { cam, el, body: el.querySelector('.tile-body'), button: el.querySelector('[data-role=toggle]'), player: null, snap: null };
        tile.button.addEventListener('click', () => (tile.player ? this.closeLive(tile) : this.openLive(tile)));
        this.tiles.set(cam.id, tile);
    }

    // The camera's latest snapshot saved as {camera}-{YYYYMMDD-HHMMSS}.jpg (the time it was taken).
    async downloadSnapshot(cameraId) {
        try {
            const s = await fetchSnapshot(cameraId);
            saveAs(s.url, `${cameraId}-${fileStamp(s.taken || Date.now())}.jpg`);
        } catch {
            // no snapshot yet: the tile already says so
        }
    }

    liveCount() {
        let n = 0;
        for (const tile of this.tiles.values()) if (tile.player) n++;
        return n;
    }

    // Opens a tile live; resolves with 'limit' when the server refused it,
    // otherwise once the player got past connecting.
    openLive(tile, { probing = false } = {}) {
        this.clearTile(tile);
        const host = document.createElement('div');
        host.className = 'player-host';
        host.style.cssText = 'position:absolute;inset:0';
        tile.body.append(host);
        const player = new VmsPlayer(host, tile.cam.id, this.playerOptions);
        tile.player = player;
        tile.el.dataset.mode = 'live';
        tile.button.textContent = t('close_live');
        const settled = new Promise((resolve) => {
            player.addEventListener('limit', (ev) => {
                // Refused by the server: back to a snapshot; the limit comes from the 429.
                resolve('limit');
                const limit = Number(ev.detail.limit);
                if (limit > 0) this.limit = limit;
                if (probing) {
                    this.showSnapshot(tile);
                } else {
                    this.showSnapshot(tile, t('limit_reached', { limit: ev.detail.limit }));
                    this.dispatchEvent(new CustomEvent('limit', { detail: ev.detail }));
                }
                this.changed();
            });
            player.addEventListener('statechange', (ev) => {
                this.changed();
                if (!['connecting', 'limit', 'stopped'].includes(ev.detail.state)) resolve(ev.detail.state);
            });
        });
        player.start();
        this.changed();
        return settled;
    }

    // The player's stop() releases its stream lease.
    closeLive(tile) {
        this.showSnapshot(tile);
        this.changed();
    }

    showSnapshot(tile, message = '') {
        this.clearTile(tile);
        const view = document.createElement('div');
        view.className = 'snapshot-view';
        view.innerHTML = `<img alt=""><span class="label"></span>`;
        if (message) {
            const m = document.createElement('div');
            m.className = 'tile-message';
            m.dataset.role = 'message';
            m.textContent = message;
            view.append(m);
        }
        tile.body.append(view);
        const img = view.querySelector('img');
        const label = view.querySelector('.label');
        label.textContent = tile.cam.id;
        tile.snap = new SnapshotView(img, tile.cam.id, this.playerOptions.snapshotMs || 30_000);
        // a snapshot says it is one, and from when: it must not pass for live
        img.addEventListener('snapshot', () => {
            const snap = tile.snap;
            if (snap) {
                const when = snap.ok && snap.taken
                    ? t('snapshot', { age: snap.taken.toLocaleTimeString(document.documentElement.lang, { hour12: false }) })
                    : snap.ok ? '' : t('snapshot_none');
                label.textContent = when ? `${tile.cam.id} · ${when}` : tile.cam.id;
            }
            this.changed();
        });
        tile.snap.start();
        tile.el.dataset.mode = 'snapshot';
        tile.button.textContent = t('open_live');
    }

    clearTile(tile) {
        if (tile.player) tile.player.stop();
        if (tile.snap) tile.snap.dispose();
        tile.player = null;
        tile.snap = null;
        tile.body.innerHTML = '';
    }

    // statuses: Map id -> vmsd state, or null when vmsd cannot be reached (every camera down).
    setStatuses(statuses) {
        for (const tile of this.tiles.values()) {
            tile.cam.status = statuses ? statuses.get(tile.cam.id) || 'unknown' : 'unreachable';
        }
        this.changed();
    }

    // Summary for the page: live count and whether every camera is down (none plays, and each
    // is offline by vmsd's account, unreachable, or has no picture at all).
    changed() {
        const states = [];
        for (const tile of this.tiles.values()) {
            const camDown = ['offline', 'unreachable'].includes(tile.cam.status);
            if (tile.player) states.push(tile.player.state === 'playing' ? 'playing' : camDown ? 'down' : tile.player.state);
            else if (tile.snap) states.push(tile.snap.ok === false || camDown ? 'down' : 'up');
        }
        const down = (s) => ['offline', 'server', 'failed', 'down'].includes(s);
        const detail = {
            live: this.liveCount(),
            limit: this.limit,
            allDown: states.length > 0 && states.every(down),
            serverDown: states.some((s) => s === 'server'),
        };
        this.dispatchEvent(new CustomEvent('change', { detail }));
    }

    stop() {
        removeEventListener('resize', this.onResize);
        for (const tile of this.tiles.values()) this.clearTile(tile);
    }
}
