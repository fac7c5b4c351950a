// Recorded video of one camera: the HLS VOD playlist of vms_playback played
// with hls.js (user token in the Authorization header), and the mapping
// between wall-clock time and the video's time from each segment's
// EXT-X-PROGRAM-DATE-TIME (gaps are skipped in the video, so the mapping is
// piecewise).
import Hls from '../vendor/hls.js/hls.esm.js';
import { userToken } from './session.js';

export class VodPlayer extends EventTarget {
    constructor(video) {
        super();
        this.video = video;
        this.hls = null;
        this.frags = [];   // [{start (video s), duration (s), pdt (ms)}]
    }

    // Resolves once the playlist is loaded (the video can seek).
    load(cameraId, startMs, endMs) {
        this.destroy();
        const q = new URLSearchParams({ start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString() });
        const url = `/api/playback/${encodeURIComponent(cameraId)}?${q}`;
        const hls = new Hls({
            // the token of the moment: a password session's is renewed while the video plays
            xhrSetup: (xhr) => userToken() && xhr.setRequestHeader('Authorization', `Bearer ${userToken()}`),
            maxBufferLength: 30,
        });
        this.hls = hls;
        return new Promise((resolve, reject) => {
            hls.on(Hls.Events.LEVEL_LOADED, (_, data) => {
                this.frags = data.details.fragments.map((f) => ({ start: f.start, duration: f.duration, pdt: f.programDateTime }));
                resolve(this.frags);
            });
            hls.on(Hls.Events.ERROR, (_, data) => {
                if (!data.fatal) return;
                const status = data.response && data.response.code ? data.response.code : 0;
                // the server's JSON answer (e.g. 429 {"error":"limit_exceeded","limit":2}), when the
                // loader kept it (hls.js passes the XHR as networkDetails)
                let body = {};
                try {
                    const x = data.networkDetails;
                    if (x && typeof x.responseText === 'string' && x.responseText) body = JSON.parse(x.responseText);
                } catch { /* not JSON */ }
                const err = Object.assign(new Error(`playback: ${data.details}`), { status, body });
                this.dispatchEvent(new CustomEvent('error', { detail: err }));
                reject(err);
            });
            hls.loadSource(url);
            hls.attachMedia(this.video);
        });
    }

    // Wall-clock time (ms) of the video's current position, or null.
    wallTime(mediaTime = this.video.currentTime) {
        for (const f of this.frags) {
            if (f.pdt != null && mediaTime >= f.start && mediaTime < f.start + f.duration + 0.001) {
                return f.pdt + (mediaTime - f.start) * 1000;
            }
        }
        return null;
    }

    // Video time for a wall-clock time; a time inside a gap goes to the next
    // recorded moment. Returns null past the end.
    mediaTimeOf(wallMs) {
        for (const f of this.frags) {
            if (f.pdt == null) continue;
            if (wallMs < f.pdt) return f.start;                           // in a gap before f
            if (wallMs < f.pdt + f.duration * 1000) return f.start + (wallMs - f.pdt) / 1000;
        }
        return null;
    }

    // Seeks to a wall-clock time; resolves with the wall time actually shown.
    async seek(wallMs) {
        const t = this.mediaTimeOf(wallMs);
        if (t == null) return null;
        this.video.currentTime = t;
        await this.video.play().catch(() => {});
        return this.wallTime(t);
    }

    // Wall-clock end (ms) of what the loaded playlist holds, or null.
    loadedEnd() {
        const f = this.frags[this.frags.length - 1];
        return f && f.pdt != null ? f.pdt + f.duration * 1000 : null;
    }

    destroy() {
        if (this.hls) this.hls.destroy();
        this.hls = null;
        this.frags = [];
    }

    // Nothing loaded, nothing on screen (a day without recordings shows no earlier picture).
    clear() {
        this.destroy();
        this.video.removeAttribute('src');
        this.video.load();
    }
}
