// Camera snapshots (the latest.jpg vmsd refreshes every 30 s), fetched with
// the user's token and shown through object URLs, so no token is in an <img src>.
import { request, snapshotUrl } from './api.js';

export async function fetchSnapshot(cameraId) {
    const res = await request(snapshotUrl(cameraId));
    const blob = await res.blob();
    const modified = res.headers.get('Last-Modified');
    return { url: URL.createObjectURL(blob), taken: modified ? new Date(modified) : null };
}

// Keeps img showing the camera's latest snapshot, refreshed every periodMs.
export class SnapshotView {
    constructor(img, cameraId, periodMs = 30_000) {
        this.img = img;
        this.cameraId = cameraId;
        this.periodMs = periodMs;
        this.timer = null;
        this.url = null;
        this.taken = null;
        this.ok = null;   // null = not tried yet; true/false = last fetch result
    }

    async refresh() {
        try {
            const s = await fetchSnapshot(this.cameraId);
            if (this.url) URL.revokeObjectURL(this.url);
            this.url = s.url;
            this.taken = s.taken;
            this.img.src = s.url;
            this.ok = true;
        } catch (e) {
            this.ok = false;
            this.error = e;
        }
        this.img.dispatchEvent(new CustomEvent('snapshot', { detail: { ok: this.ok } }));
        return this.ok;
    }

    start() {
        this.stop();
        this.refresh();
        this.timer = setInterval(() => this.refresh(), this.periodMs);
    }

    stop() {
        clearInterval(this.timer);
        this.timer = null;
    }

    dispose() {
        this.stop();
        if (this.url) URL.revokeObjectURL(this.url);
        this.url = null;
    }
}
