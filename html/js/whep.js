// WHEP client (RFC 9725): one recvonly RTCPeerConnection, the SDP offer POSTed
// to the endpoint with the stream token in the Authorization header, the
// answer applied; close() ends the session with DELETE on its Location.
import { ApiError } from './api.js';

const ICE_GATHER_MS = 1500;

function iceGathered(pc) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
        const done = () => {
            clearTimeout(timer);
            pc.removeEventListener('icegatheringstatechange', check);
            resolve();
        };
        const check = () => pc.iceGatheringState === 'complete' && done();
        // Host candidates arrive at once; waiting longer only delays the start.
        const timer = setTimeout(done, ICE_GATHER_MS);
        pc.addEventListener('icegatheringstatechange', check);
    });
}

export class WhepSession {
    constructor(url, token) {
        this.url = url;
        this.token = token;
        this.pc = null;
        this.resource = null;
        this.closed = false;
    }

    // Resolves once the answer is applied; media arrives on video afterwards.
    async start(video, signal) {
        const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
        this.pc = pc;
        pc.addTransceiver('video', { direction: 'recvonly' });
        pc.addTransceiver('audio', { direction: 'recvonly' });
        const stream = new MediaStream();
        pc.addEventListener('track', (ev) => {
            stream.addTrack(ev.track);
            if (video.srcObject !== stream) video.srcObject = stream;
        });
        await pc.setLocalDescription(await pc.createOffer());
        await iceGathered(pc);
        if (this.closed) throw new DOMException('closed', 'AbortError');
        let res;
        try {
            res = await fetch(this.url, {
                method: 'POST',
                headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${this.token}` },
                body: pc.localDescription.sdp,
                signal,
                cache: 'no-store',
            });
        } catch (e) {
            if (e.name === 'AbortError') throw e;
            throw new ApiError(0, null, `WHEP: ${e.message}`);
        }
        if (res.status !== 201 && res.status !== 200) {
            let body = null;
            if ((res.headers.get('content-type') || '').includes('json')) body = await res.json().catch(() => null);
            throw new ApiError(res.status, body, `WHEP: HTTP ${res.status}`);
        }
        const loc = res.headers.get('Location');
        if (loc) this.resource = new URL(loc, new URL(this.url, location.href)).href;
        const sdp = await res.text();
        if (this.closed) throw new DOMException('closed', 'AbortError');
        await pc.setRemoteDescription({ type: 'answer', sdp });
        pc.addEventListener('connectionstatechange', () => {
            if (pc.connectionState === 'failed' && this.onfailed) this.onfailed();
        });
    }

    close() {
        if (this.closed) return;
        this.closed = true;
        if (this.pc) this.pc.close();
        if (this.resource) {
            fetch(this.resource, {
                method: 'DELETE',
                headers: { Authorization: `Bearer ${this.token}` },
                keepalive: true,
            }).catch(() => {});
        }
    }
}
