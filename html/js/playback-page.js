// playback.html?camera=ID&day=YYYY-MM-DD[&t=MS]: the day's recordings of a camera on
// a canvas timeline (from /api/playback/{id}/timeline); a click plays the VOD
// playlist from the clicked time.
import { ApiError, cameras, getJSON } from './api.js';
import { t } from './i18n.js';
import { banner, bannerError, explain, setupHeader, signedIn } from './page.js';
import { Timeline } from './timeline.js';
import { VodPlayer } from './vod.js';

const $ = (id) => document.getElementById(id);

function dayRange(day) {
    const [y, m, d] = day.split('-').map(Number);
    const start = new Date(y, m - 1, d).getTime();   // local midnight
    return [start, new Date(y, m - 1, d + 1).getTime()];
}

function today() {
    const d = new Date();
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function clock(ms) {
    const d = new Date(ms);
    return d.toLocaleTimeString(document.documentElement.lang, { hour12: false });
}

async function main() {
    setupHeader();
    await signedIn($('main'));
    const params = new URLSearchParams(location.search);
    const camSel = $('camera');
    const daySel = $('day');
    const status = $('status');
    daySel.value = params.get('day') || today();
    try {
        for (const c of await cameras()) camSel.add(new Option(c.id, c.id));
    } catch (e) {
        if (e instanceof ApiError && e.serverDown) banner('maintenance', t('maintenance'));
        else bannerError(e);
    }
    const wanted = params.get('camera');
    if (wanted && ![...camSel.options].some((o) => o.value === wanted)) camSel.add(new Option(wanted, wanted));
    if (wanted) camSel.value = wanted;

    const timeline = new Timeline($('timeline'));
    const vod = new VodPlayer($('video'));
    window.vmsTimeline = timeline;
    window.vmsVod = vod;
    let loaded = null;   // {camera, start, end}

    // what went wrong, in the page's language; "sign in again" when the session ended
    function failed(e) {
        const { text, signIn } = explain(e);
        status.textContent = text;
        if (signIn) banner('session', text);
    }

    async function load() {
        const camera = camSel.value;
        if (!camera) return;
        const [start, end] = dayRange(daySel.value);
        status.textContent = '';
        const q = new URLSearchParams({ start: new Date(start).toISOString(), end: new Date(end).toISOString() });
        let data;
        try {
            data = await getJSON(`/api/playback/${encodeURIComponent(camera)}/timeline?${q}`);
        } catch (e) {
            if (e instanceof ApiError && e.status === 404) data = { start: q.get('start'), end: q.get('end'), spans: [], gaps: [] };
            else {
                failed(e);
                return;
            }
        }
        timeline.setData(data);
        document.body.dataset.spans = String(timeline.spans.length);
        if (!timeline.spans.length) {
            status.textContent = t('no_recordings');
            return;
        }
        loaded = { camera, start, end };
        try {
            await vod.load(camera, start, end);
        } catch (e) {
            // hls.js' errors carry the playlist's status and JSON body (vod.js), like ApiError
            if (e.status === 404) status.textContent = t('no_recordings');
            else if (e.status >= 400) failed(new ApiError(e.status, e.body));
            else status.textContent = t('playback_failed');
        }
    }

    timeline.addEventListener('seek', async (ev) => {
        if (!loaded) return;
        const shown = await vod.seek(ev.detail.time);
        status.dataset.seekTo = String(ev.detail.time);
        status.dataset.seekShown = shown == null ? '' : String(Math.round(shown));
        if (shown == null) status.textContent = t('no_recordings');
        else status.textContent = clock(shown);
    });
    $('video').addEventListener('timeupdate', () => {
        const w = vod.wallTime();
        if (w != null) {
            timeline.setCursor(w);
            $('clock').textContent = clock(w);
        }
    });
    $('zoom-in').addEventListener('click', () => timeline.zoomIn());
    $('zoom-out').addEventListener('click', () => timeline.zoomOut());
    $('load').addEventListener('click', load);
    camSel.addEventListener('change', load);
    daySel.addEventListener('change', load);
    $('zoom-in').textContent = '+';
    $('zoom-out').textContent = '−';
    await load();
    // ?t=MS (epoch milliseconds, e.g. from an event on events.html): play from that moment
    const at = Number(params.get('t'));
    if (loaded && at > 0) timeline.dispatchEvent(new CustomEvent('seek', { detail: { time: at } }));
}

main();
