// Client-side counters reported to nginx (POST /api/metrics/client), which
// logs them as one line per event (see docs/live.md). Losing a report never
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
