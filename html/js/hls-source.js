// Live or VOD HLS into a <video>: hls.js where Media Source Extensions exist,
// the browser's own HLS otherwise. The stream token goes in the Authorization
// header of every playlist and segment request (hls.js), or as ?token= for
// native players, which cannot set headers (the token is short-lived and
// scoped to one camera).
import Hls from '../vendor/hls.js/hls.esm.js';

export class HlsSource extends EventTarget {
    // token: a string, or a function giving the current one (refreshed stream tokens).
    constructor(video, url, token, { live = true, quality = 'auto' } = {}) {
        super();
        this.video = video;
        this.url = url;
        this.token = token;
        this.live = live;
        this.quality = quality;
        this.hls = null;
    }

    start() {
        const { video } = this;
        const current = typeof this.token === 'function' ? this.token : () => this.token;
        if (Hls.isSupported()) {
            const hls = new Hls({
                liveSyncDurationCount: 3,
                manifestLoadingMaxRetry: 1,
                levelLoadingMaxRetry: 2,
                fragLoadingMaxRetry: 2,
                backBufferLength: this.live ? 30 : 90,
                xhrSetup: (xhr) => {
                    const token = current();
                    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
                },
            });
            this.hls = hls;
            hls.on(Hls.Events.MANIFEST_PARSED, () => {
                this.levels = hls.levels.map((l, i) => ({ index: i, height: l.height, bitrate: l.bitrate }));
                this.setQuality(this.quality);
                this.dispatchEvent(new CustomEvent('levels', { detail: this.levels }));
            });
            hls.on(Hls.Events.ERROR, (_, data) => {
                if (!data.fatal) return;
                const status = data.response && data.response.code ? data.response.code : 0;
                this.dispatchEvent(new CustomEvent('fatal', { detail: { status, type: data.type, details: data.details } }));
            });
            hls.loadSource(this.url);
            hls.attachMedia(video);
        } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
            const u = new URL(this.url, location.href);
            if (current()) u.searchParams.set('token', current());
            video.src = u.href;
            video.addEventListener('error', this.onNativeError = () => {
                this.dispatchEvent(new CustomEvent('fatal', { detail: { status: 0, type: 'native', details: 'error' } }));
            });
        } else {
            throw new Error('HLS not supported by this browser');
        }
        video.play().catch((e) => {
            // no sound before the user interacts with the page: play muted
            if (e.name === 'NotAllowedError' && !video.muted) {
                video.muted = true;
                video.play().catch(() => {});
            }
        });
    }

    // quality: 'auto' or a picture height; the closest level is used.
    setQuality(quality) {
        this.quality = quality;
        if (!this.hls || !this.levels || !this.levels.length) return;
        if (quality === 'auto') {
            this.hls.currentLevel = -1;
            return;
        }
        let best = this.levels[0];
        for (const l of this.levels) if (Math.abs(l.height - quality) < Math.abs(best.height - quality)) best = l;
        this.hls.currentLevel = best.index;
    }

    seek(seconds) {
        this.video.currentTime = seconds;
    }

    destroy() {
        if (this.hls) {
            this.hls.destroy();
            this.hls = null;
        }
        if (this.onNativeError) this.video.removeEventListener('error', this.onNativeError);
        this.video.removeAttribute('src');
        this.video.load();
    }
}
