// Client-side counters reported to nginx (POST /api/metrics/client), which
// logs them as one line per event; WebRTC latency goes on to vmsd's
// histogram vms_webrtc_latency_ms (see docs/live.md). Losing a report never
// affects playback.
import { userToken } from './session.js';

export function reportProtocolSwitch(cameraId, from, to) {
    const q = new URLSearchParams({ name: 'vms_protocol_fallback_total', camera_id: cameraId, from, to });
    const headers = { 'Content-Type': 'application/json' };
    if (userToken()) headers.Authorization = `Bearer ${userToken()}`;
    return fetch(`/api/metrics/client?${q}`, {
        method: 'POST',
        headers,
        keepalive: true,
        body: JSON.stringify({ name: 'vms_protocol_fallback_total', labels: { camera_id: cameraId, from, to }, value: 1 }),
    }).then((r) => r.ok, () => false);
}

// The playing WebRTC stream's latency estimate in ms (player.js), sent with
// each lease renewal.
export function reportWebrtcLatency(cameraId, ms) {
    const value = String(Math.min(Math.max(0, Math.round(ms)), 60000));
    const q = new URLSearchParams({ name: 'vms_webrtc_latency_ms', camera_id: cameraId, value });
    const headers = {};
    if (userToken()) headers.Authorization = `Bearer ${userToken()}`;
    return fetch(`/api/metrics/client?${q}`, { method: 'POST', headers, keepalive: true })
        .then((r) => r.ok, () => false);
}
