// Live player of one camera: WebRTC (WHEP) first, HLS when WebRTC fails or
// shows no picture within 5 s, WebRTC tried again every 60 s; a stall watchdog
// that reloads the stream (at most 3 times a minute) behind a
// "Reconectando..." overlay and gives up with a retry button after 3 failed
// reloads; degradation messages for a refused limit, an offline camera and an
// unreachable media server.
//
// Events (EventTarget): 'protocolswitch' {cameraId, from, to, reason} (also the
// onProtocolSwitch callback), 'statechange' {state, message}, 'limit' {limit}.
import {
    ApiError, cameras, forgetStreamToken, keepStream, liveUrl, releaseStream, streamToken, streamTokenExpiry, whepUrl,
} from './api.js';
import { HlsSource } from './hls-source.js';
import { t } from './i18n.js';
import { explain, signInAgain } from './page.js';
import { reportProtocolSwitch, reportWebrtcLatency } from './metrics.js';
import { prefs } from './prefs.js';
import { SnapshotView } from './snapshot.js';
import { WhepSession } from './whep.js';

export const DEFAULTS = {
    webrtc: true,               // try WHEP first
    webrtcTimeoutMs: 5000,      // no picture from WebRTC within this -> HLS
    webrtcRetryMs: 60_000,      // while on HLS, try WebRTC again after this
    stallMs: 5000,              // readyState < 3 or no progress this long -> reload
    startGraceMs: 10_000,       // a (re)load that shows no picture within this has failed
    maxReloads: 3,              // reloads per reloadWindowMs, and failures before giving up
    reloadWindowMs: 60_000,
    offlineRetryMs: 10_000,     // camera offline / server down: try again after this
    healthyResetMs: 10_000,     // this long playing -> failure count back to 0
    staleMs: 8000,              // a live playlist older than this is not being published
    keepaliveMs: 10_000,        // WebRTC makes no requests: renew its stream lease this often
    tokenRefreshMs: null,       // HLS: new stream token after this (default: 2 min before expiry)
    tickMs: 500,
};

// States shown to the user. 'playing' hides the overlay.
const OVERLAY = {
    connecting: 'connecting',
    reconnecting: 'reconnecting',
    offline: 'reconnecting',
    server: 'server_down',
    failed: 'playback_failed',
    denied: 'not_authorized',
};

// The camera list, asked once per page (and again after a minute): a camera that keeps answering
// 404 and is not in it does not exist, and waiting for it cannot help.
let cameraList = null;
async function cameraKnown(id) {
    if (!cameraList || Date.now() - cameraList.at > 60_000) {
        cameraList = { at: Date.now(), ids: cameras().then((l) => l.map((c) => c.id), () => null) };
    }
    const ids = await cameraList.ids;
    return ids === null || ids.includes(id);     // no list: assume it exists (offline, retried)
}

export class VmsPlayer extends EventTarget {
    constructor(root, cameraId, options = {}) {
        super();
        this.root = root;
        this.cameraId = cameraId;
        this.opt = { ...DEFAULTS, ...options };
        this.onProtocolSwitch = options.onProtocolSwitch || null;
        this.state = 'idle';
        this.protocol = null;
        this.webrtcNotBefore = 0;
        this.gen = 0;               // bumps on every (re)connect; stale async work checks it
        this.media = null;          // WhepSession or HlsSource
        this.failures = 0;
        this.reloads = [];          // times of recent reloads
        this.stalledSince = 0;
        this.playingSince = 0;
        this.timers = new Set();
        this.build();
    }

    build() {
        const r = this.root;
        r.classList.add('vms-player');
        r.dataset.camera = this.cameraId;
        r.innerHTML = `
            <img class="poster" alt="">
            <video playsinline autoplay muted></video>
            <div class="badge" data-role="protocol" hidden></div>
            <div class="overlay" data-role="overlay">
                <span class="spinner"></span>
                <span class="message" data-role="message"></span>
                <button type="button" class="retry" data-role="retry" hidden></button>
            </div>
            <div class="controls">
                <span class="name"></span>
                <input type="range" min="0" max="1" step="0.05" data-role="volume">
                <select data-role="quality" hidden></select>
            </div>`;
        this.video = r.querySelector('video');
        this.poster = r.querySelector('.poster');
        this.badge = r.querySelector('[data-role=protocol]');
        this.overlay = r.querySelector('[data-role=overlay]');
        this.message = r.querySelector('[data-role=message]');
        this.retryButton = r.querySelector('[data-role=retry]');
        this.retryButton.textContent = t('retry');
        this.retryButton.addEventListener('click', () => this.retry());
        r.querySelector('.name').textContent = this.cameraId;

        const vol = r.querySelector('[data-role=volume]');
        vol.title = t('volume');
        vol.value = prefs.get('volume', 0);
        this.video.volume = Number(vol.value);
        this.video.muted = Number(vol.value) === 0;   // autoplay needs muted until the user raises it
        vol.addEventListener('input', () => {
            this.video.volume = Number(vol.value);
            this.video.muted = Number(vol.value) === 0;
            prefs.set('volume', Number(vol.value));
        });
        this.qualitySelect = r.querySelector('[data-role=quality]');
        this.qualitySelect.title = t('quality');
        this.qualitySelect.addEventListener('change', () => {
            const v = this.qualitySelect.value === 'auto' ? 'auto' : Number(this.qualitySelect.value);
            prefs.set('quality', v);
            if (this.media instanceof HlsSource) this.media.setQuality(v);
        });
        this.snapshots = new SnapshotView(this.poster, this.cameraId);
    }

    // -- public ------------------------------------------------------------
    start() {
        this.failures = 0;
        this.reloads = [];
        this.interval = setInterval(() => this.tick(), this.opt.tickMs);
        this.connect('start');
    }

    // Stops playing and ends the stream lease now (not at its idle expiry).
    stop() {
        const held = this.state !== 'idle' && this.state !== 'stopped';
        this.gen++;
        clearInterval(this.interval);
        for (const id of this.timers) clearTimeout(id);
        this.timers.clear();
        clearTimeout(this.upkeepTimer);
        this.teardown();
        this.snapshots.dispose();
        this.setState('stopped');
        if (held) releaseStream(this.cameraId, this.token);
    }

    retry() {
        if (this.state === 'signin') {
            signInAgain();
            return;
        }
        if (this.state === 'unknown') {
            location.href = 'index.html';
            return;
        }
        this.failures = 0;
        this.reloads = [];
        forgetStreamToken(this.cameraId);
        this.connect('manual');
    }

    // -- connecting --------------------------------------------------------
    async connect(reason) {
        const gen = ++this.gen;
        this.teardown();
        this.stalledSince = 0;
        this.playingSince = 0;
        this.setState(reason === 'start' || reason === 'manual' ? 'connecting' : 'reconnecting');
        let token;
        try {
            token = await streamToken(this.cameraId);
        } catch (e) {
            if (gen === this.gen) this.onError(e);
            return;
        }
        if (gen !== this.gen) return;
        this.token = token;

        if (this.opt.webrtc && performance.now() >= this.webrtcNotBefore) {
            const r = await this.tryWebRTC(token, gen);
            if (gen !== this.gen) return;
            if (r === true) return;
            if (r instanceof ApiError && (r.limitReached || r.status === 401 || r.status === 403)) {
                this.onError(r);
                return;
            }
            this.webrtcNotBefore = performance.now() + this.opt.webrtcRetryMs;
            this.later(() => this.retryWebRTC(), this.opt.webrtcRetryMs);
            this.switched('webrtc', 'hls', String(r && r.message ? r.message : r));
        }
        await this.startHls(token, gen);
    }

    // true when WebRTC shows a picture within webrtcTimeoutMs; otherwise the reason.
    async tryWebRTC(token, gen) {
        const session = new WhepSession(whepUrl(this.cameraId), token);
        const ctrl = new AbortController();
        let timer;
        const timeout = new Promise((resolve) => {
            timer = setTimeout(() => resolve(new Error('no picture within timeout')), this.opt.webrtcTimeoutMs);
        });
        const attempt = (async () => {
            await session.start(this.video, ctrl.signal);
            await this.firstPicture();
            return true;
        })().catch((e) => e);
        const r = await Promise.race([attempt, timeout]);
        clearTimeout(timer);
        if (r === true && gen === this.gen) {
            this.media = session;
            session.onfailed = () => gen === this.gen && this.reload('webrtc failed');
            this.protocol = 'webrtc';
            this.playing();
            return true;
        }
        ctrl.abort();
        session.close();
        this.video.srcObject = null;
        return r;
    }

    // A background attempt while HLS plays: switch only if WebRTC shows a picture.
    async retryWebRTC() {
        if (this.protocol !== 'hls' || this.state !== 'playing') {
            if (this.protocol === 'hls') this.later(() => this.retryWebRTC(), this.opt.webrtcRetryMs);
            return;
        }
        const gen = this.gen;
        let token;
        try {
            token = await streamToken(this.cameraId);
        } catch {
            this.later(() => this.retryWebRTC(), this.opt.webrtcRetryMs);
            return;
        }
        const probe = document.createElement('video');
        probe.muted = true;
        probe.playsInline = true;
        const session = new WhepSession(whepUrl(this.cameraId), token);
        let ok = false;
        try {
            await Promise.race([
                (async () => {
                    await session.start(probe);
                    await probe.play().catch(() => {});
                    await waitFor(() => probe.readyState >= 3, this.opt.webrtcTimeoutMs);
                    ok = true;
                })(),
                sleep(this.opt.webrtcTimeoutMs + 500),
            ]);
        } catch {
            ok = false;
        }
        if (!ok || gen !== this.gen || this.protocol !== 'hls') {
            session.close();
            if (gen === this.gen && this.protocol === 'hls') {
                this.webrtcNotBefore = performance.now() + this.opt.webrtcRetryMs;
                this.later(() => this.retryWebRTC(), this.opt.webrtcRetryMs);
            }
            return;
        }
        // Hand the WebRTC stream to the visible video, then drop HLS.
        const stream = probe.srcObject;
        this.media.destroy();
        this.video.srcObject = stream;
        playMaybeMuted(this.video);
        this.media = session;
        session.onfailed = () => gen === this.gen && this.reload('webrtc failed');
        this.switched('hls', 'webrtc', 'webrtc available again');
        this.protocol = 'webrtc';
        this.playing();
    }

    async startHls(token, gen) {
        // A plain request first: its status tells offline (404), limit (429)
        // and server down (5xx) apart before hls.js retries blindly.
        try {
            const res = await fetch(liveUrl(this.cameraId), {
                headers: { Authorization: `Bearer ${token}` },
                cache: 'no-store',
            });
            if (!res.ok) {
                let body = null;
                if ((res.headers.get('content-type') || '').includes('json')) body = await res.json().catch(() => null);
                throw new ApiError(res.status, body);
            }
            // A live playlist nobody rewrites any more (the camera stopped publishing and
            // the media server has not cleaned up yet) is an offline camera, not a stream.
            const modified = Date.parse(res.headers.get('Last-Modified') || '');
            const now = Date.parse(res.headers.get('Date') || '');
            if (modified && now && now - modified > this.opt.staleMs) throw new ApiError(404, { error: 'stale_playlist' });
        } catch (e) {
            if (gen === this.gen) this.onError(e instanceof ApiError ? e : new ApiError(0, null, e.message));
            return;
        }
        if (gen !== this.gen) return;
        const src = new HlsSource(this.video, liveUrl(this.cameraId), () => this.token, { quality: prefs.get('quality', 'auto') });
        this.media = src;
        this.protocol = 'hls';
        src.addEventListener('levels', (ev) => this.showLevels(ev.detail));
        src.addEventListener('fatal', (ev) => {
            if (gen !== this.gen) return;
            const { status } = ev.detail;
            if (status === 404 || status === 429 || status === 0 || status >= 500) this.onError(new ApiError(status, null));
            else this.reload(`hls ${ev.detail.details}`);
        });
        src.start();
        try {
            await this.firstPicture(this.opt.startGraceMs);
        } catch {
            if (gen === this.gen && this.state !== 'playing') this.reload('no picture');
            return;
        }
        if (gen === this.gen) this.playing();
    }

    firstPicture(ms = this.opt.webrtcTimeoutMs) {
        playMaybeMuted(this.video);
        return waitFor(() => this.video.readyState >= 3, ms);
    }

    teardown() {
        if (this.media) {
            if (this.media instanceof HlsSource) this.media.destroy();
            else this.media.close();
        }
        this.media = null;
        this.protocol = null;
        this.video.srcObject = null;
        this.badge.hidden = true;
    }

    // -- health ------------------------------------------------------------
    playing() {
        this.playingSince = performance.now();
        this.stalledSince = 0;
        this.webrtcFrames = -1;
        this.lastProgress = undefined;
        this.lastProgressAt = this.playingSince;
        this.badge.hidden = false;
        this.badge.dataset.protocol = this.protocol;
        this.badge.textContent = t(this.protocol === 'webrtc' ? 'low_latency' : 'compat_mode');
        this.setState('playing');
        this.snapshots.stop();
        this.scheduleUpkeep(this.gen);
    }

    // While playing: WebRTC renews its lease (it makes no requests of its own); HLS moves to a
    // new stream token before the current one expires, releasing the old token's lease first
    // so that a user at the limit is not refused by the switch.
    scheduleUpkeep(gen) {
        clearTimeout(this.upkeepTimer);
        if (this.protocol === 'webrtc') {
            this.upkeepTimer = setTimeout(async () => {
                if (gen !== this.gen || this.protocol !== 'webrtc') return;
                await keepStream(this.cameraId, this.token).catch(() => {});
                if (this.webrtcLatencyMs !== undefined) reportWebrtcLatency(this.cameraId, this.webrtcLatencyMs);
                this.scheduleUpkeep(gen);
            }, this.opt.keepaliveMs);
        } else if (this.protocol === 'hls') {
            const ms = this.opt.tokenRefreshMs ?? Math.max(10_000, streamTokenExpiry(this.cameraId) - Date.now() - 120_000);
            this.upkeepTimer = setTimeout(async () => {
                if (gen !== this.gen || this.protocol !== 'hls') return;
                const old = this.token;
                try {
                    const fresh = await streamToken(this.cameraId, { fresh: true });
                    if (gen !== this.gen) return;
                    await releaseStream(this.cameraId, old);
                    this.token = fresh;
                } catch {
                    // kept the old token; the next attempt follows
                }
                this.scheduleUpkeep(gen);
            }, ms);
        }
    }

    // Stalled: readyState < 3, or no progress, for stallMs. Progress is the video's time for HLS
    // and WebRTC's decoded-frame count (a MediaStream whose frames stop keeps readyState 4 and a
    // running clock). Hidden tabs are not checked (the browser stops rendering them).
    tick() {
        if (this.state !== 'playing' || document.hidden) {
            this.stalledSince = 0;
            return;
        }
        const now = performance.now();
        const progress = this.progress();
        if (progress !== this.lastProgress) {
            this.lastProgress = progress;
            this.lastProgressAt = now;
        }
        const noProgress = now - this.lastProgressAt >= this.opt.stallMs;
        if (this.video.readyState < 3 || noProgress) {
            if (!this.stalledSince) this.stalledSince = noProgress ? this.lastProgressAt : now;
            if (now - this.stalledSince >= this.opt.stallMs) this.reload('stalled');
        } else {
            this.stalledSince = 0;
            if (this.failures && now - this.playingSince >= this.opt.healthyResetMs) this.failures = 0;
        }
    }

    progress() {
        if (this.media instanceof WhepSession) {
            const pc = this.media.pc;
            if (pc && !this.statsPending) {
                this.statsPending = true;
                pc.getStats().then((stats) => {
                    let buffer = null;
                    let rtt = null;
                    stats.forEach((r) => {
                        if (r.type === 'inbound-rtp' && r.kind === 'video') {
                            this.webrtcFrames = r.framesDecoded;
                            if (r.jitterBufferEmittedCount > 0) buffer = r.jitterBufferDelay / r.jitterBufferEmittedCount;
                        }
                        if (r.type === 'candidate-pair' && r.nominated && r.currentRoundTripTime !== undefined) rtt = r.currentRoundTripTime;
                    });
                    // Latency estimate: one-way network delay (half the round trip) plus the
                    // average time a frame waited in the jitter buffer; capture and decode are
                    // not visible to the page.
                    if (buffer !== null) this.webrtcLatencyMs = Math.round(1000 * (buffer + (rtt ?? 0) / 2));
                }, () => {}).finally(() => {
                    this.statsPending = false;
                });
            }
            return this.webrtcFrames;
        }
        return this.video.currentTime;
    }

    // Reload after a stall or a failed load: at most maxReloads per window;
    // maxReloads failures in a row end in the error state with a retry button.
    reload(reason) {
        this.failures++;
        if (this.failures > this.opt.maxReloads) {
            this.gen++;
            this.teardown();
            this.setState('failed', reason);
            return;
        }
        const now = performance.now();
        this.reloads = this.reloads.filter((x) => now - x < this.opt.reloadWindowMs);
        this.gen++;
        this.teardown();
        this.setState('reconnecting', reason);
        const wait = this.reloads.length >= this.opt.maxReloads ? this.reloads[0] + this.opt.reloadWindowMs - now : 0;
        this.reloads.push(now + wait);
        this.later(() => this.state === 'reconnecting' && this.connect('reload'), wait);
    }

    onError(e) {
        if (e.name === 'AbortError') return;
        this.teardown();
        if (e.limitReached || e.status === 429) {
            const limit = e.body && e.body.limit != null ? e.body.limit : '?';
            this.setState('limit', null, { limit });
            this.dispatchEvent(new CustomEvent('limit', { detail: { limit, message: this.message.textContent } }));
            return;
        }
        if (e.status === 401) {              // the user's session ended: only signing in again helps
            this.setState('signin', explain(e).text);
            return;
        }
        if (e.status === 403) {
            this.setState('denied');
            return;
        }
        // Offline camera or unreachable server: keep the last snapshot on
        // screen and try again; these do not count as playback failures.
        // A camera that is not in the camera list does not exist: said, not retried.
        this.setState(e.status === 404 ? 'offline' : 'server');
        const gen = this.gen;
        if (e.status === 404) {
            cameraKnown(this.cameraId).then((known) => {
                if (!known && gen === this.gen) {
                    this.gen++;
                    this.setState('unknown', t('camera_unknown', { id: this.cameraId }));
                }
            });
        }
        this.later(() => gen === this.gen && this.connect('reload'), this.opt.offlineRetryMs);
    }

    switched(from, to, reason) {
        const detail = { cameraId: this.cameraId, from, to, reason };
        reportProtocolSwitch(this.cameraId, from, to);
        this.dispatchEvent(new CustomEvent('protocolswitch', { detail }));
        if (typeof this.onProtocolSwitch === 'function') this.onProtocolSwitch(detail);
    }

    // -- view --------------------------------------------------------------
    setState(state, detail, extra = {}) {
        this.state = state;
        this.root.dataset.state = state;
        const key = OVERLAY[state];
        let text = '';
        if (state === 'limit') text = detail || t('limit_reached', { limit: extra.limit });
        else if (state === 'signin' || state === 'unknown') text = detail;
        else if (key) text = t(key);
        this.message.textContent = text;
        this.overlay.hidden = state === 'playing' || state === 'stopped';
        // retry where it can help; sign in again when the session ended; the camera list for an unknown camera
        this.retryButton.hidden = !['failed', 'server', 'offline', 'limit', 'signin', 'unknown'].includes(state);
        this.retryButton.textContent = t({ signin: 'sign_in_again', unknown: 'back_to_cameras' }[state] || 'retry');
        this.root.querySelector('.spinner').hidden = !['connecting', 'reconnecting', 'offline'].includes(state);
        if (['reconnecting', 'offline', 'server', 'failed'].includes(state) && !this.snapshots.timer) {
            this.snapshots.start();   // the camera's last picture under the message
        }
        this.poster.hidden = state === 'playing';
        this.dispatchEvent(new CustomEvent('statechange', { detail: { state, message: text, reason: detail } }));
    }

    showLevels(levels) {
        const sel = this.qualitySelect;
        sel.hidden = levels.length < 2;
        sel.innerHTML = '';
        const auto = new Option(t('quality_auto'), 'auto');
        sel.add(auto);
        for (const l of levels) sel.add(new Option(`${l.height}p`, String(l.height)));
        sel.value = String(prefs.get('quality', 'auto'));
        if (sel.selectedIndex < 0) sel.value = 'auto';
    }

    later(fn, ms) {
        const id = setTimeout(() => {
            this.timers.delete(id);
            fn();
        }, ms);
        this.timers.add(id);
    }
}

// Browsers refuse to autoplay with sound until the user interacts with the page: then play
// muted (the volume preference stays; the slider unmutes).
export function playMaybeMuted(video) {
    return video.play().catch((e) => {
        if (e.name !== 'NotAllowedError' || video.muted) return;
        video.muted = true;
        return video.play().catch(() => {});
    });
}

function sleep(ms) {
    return new Promise((r) => setTimeout(r, ms));
}

// Resolves when cond() holds (checked every 100 ms); rejects after ms.
function waitFor(cond, ms) {
    return new Promise((resolve, reject) => {
        const start = performance.now();
        const check = () => {
            if (cond()) resolve();
            else if (performance.now() - start >= ms) reject(new Error('timeout'));
            else setTimeout(check, 100);
        };
        check();
    });
}
