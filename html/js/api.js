// HTTP calls to the vms APIs. Every call sends the user token in the
// Authorization header; errors become ApiError with the status and the
// server's JSON message, so components can show the right degradation text.
// A 401 to a password session's token renews the token once (session.js) and
// sends the request again; when the server refuses the renewal, the sign-in
// form comes back saying the session expired.
import { endSession, passwordSession, refreshSession, userToken } from './session.js';

export class ApiError extends Error {
    constructor(status, body, message) {
        super(message || (body && (body.message || body.error)) || `HTTP ${status}`);
        this.status = status;     // 0 = network error (server unreachable)
        this.body = body || {};
    }
    get limitReached() {
        return this.status === 429 && this.body.error === 'limit_exceeded';
    }
    get serverDown() {
        return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504;
    }
}

async function parseBody(res) {
    const type = res.headers.get('content-type') || '';
    if (!type.includes('json')) return null;
    try {
        return await res.json();
    } catch {
        return null;
    }
}

// fetch with the user's token (or token); throws ApiError unless 2xx.
export async function request(path, { method = 'GET', json, body, headers = {}, token, signal, keepalive = false } = {}) {
    if (json !== undefined) body = JSON.stringify(json);
    const send = async (bearer) => {
        const h = new Headers(headers);
        if (bearer) h.set('Authorization', `Bearer ${bearer}`);
        if (json !== undefined) h.set('Content-Type', 'application/json');
        try {
            return await fetch(path, { method, headers: h, body, signal, keepalive, cache: 'no-store' });
        } catch (e) {
            if (e.name === 'AbortError') throw e;
            throw new ApiError(0, null, e.message);
        }
    };
    const bearer = token ?? userToken();
    let res = await send(bearer);
    if (res.status === 401 && token === undefined && bearer && passwordSession()) {
        // another request may have renewed the token meanwhile: then only send again
        const renewed = userToken() !== bearer ? 'ok' : await refreshSession();
        if (renewed === 'ok') res = await send(userToken());
        else if (renewed === 'refused') endSession('session_expired');
    }
    if (!res.ok) throw new ApiError(res.status, await parseBody(res));
    return res;
}

export async function getJSON(path, opts) {
    return (await request(path, opts)).json();
}

// Stream tokens: short-lived, scoped to one camera; cached until shortly
// before they expire.
const streamTokens = new Map();

// fresh: a new token (new jti, so a new stream lease) even if the cached one is still good.
export async function streamToken(cameraId, { fresh = false } = {}) {
    const cached = streamTokens.get(cameraId);
    if (!fresh && cached && cached.expires > Date.now() + 60_000) return cached.token;
    const r = await getJSON('/api/auth/stream-token', { method: 'POST', json: { camera_id: cameraId } });
    const token = r.token || r.stream_token;
    if (!token) throw new ApiError(500, r, 'stream-token: no token in reply');
    const ttl = Number(r.expires_in) > 0 ? Number(r.expires_in) : 3600;
    streamTokens.set(cameraId, { token, expires: Date.now() + ttl * 1000 });
    return token;
}

// When the cached stream token of a camera expires (ms since the epoch), or 0.
export function streamTokenExpiry(cameraId) {
    const cached = streamTokens.get(cameraId);
    return cached ? cached.expires : 0;
}

export function forgetStreamToken(cameraId) {
    streamTokens.delete(cameraId);
}

export const liveUrl = (cameraId) => `/live/${encodeURIComponent(cameraId)}/index.m3u8`;
export const whepUrl = (cameraId) => `/live/${encodeURIComponent(cameraId)}/whep`;
export const snapshotUrl = (cameraId) => `/api/cameras/${encodeURIComponent(cameraId)}/snapshot.jpg`;

// Cameras and their state ('online' | 'offline' | 'reconnecting' | 'connecting' | …), from
// vmsd through nginx (GET /api/cameras answers vmsd's /health: {"cameras":[{"id","state"}]}).
export async function cameras() {
    const r = await getJSON('/api/cameras');
    const list = Array.isArray(r) ? r : r.cameras || [];
    return list.map((c) => (typeof c === 'string'
        ? { id: c, status: 'unknown' }
        : { id: c.id || c.camera_id, status: c.status || c.state || 'unknown' }))
        // cam1, cam2, …, cam10: natural order, whatever order vmsd keeps them in
        .sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
}

// Frees the stream lease of a stream token (by default this camera's current one) at once
// (otherwise it expires after its idle time).
export async function releaseStream(cameraId, token = streamTokens.get(cameraId)?.token) {
    if (!token) return;
    try {
        // keepalive: also sent while the page unloads
        await request(`/live/${encodeURIComponent(cameraId)}/release`, { method: 'POST', token, keepalive: true });
    } catch {
        // the lease expires by itself after its idle time
    }
}

// Renews the lease of a stream that makes no requests of its own (WebRTC).
export async function keepStream(cameraId, token) {
    await request(`/live/${encodeURIComponent(cameraId)}/keepalive`, { method: 'POST', token });
}
