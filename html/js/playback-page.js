// playback.html?camera=ID&day=YYYY-MM-DD[&t=MS]: the day's recordings of a camera on
// a canvas timeline (from /api/playback/{id}/timeline) and played at once (from ?t=, else
// the latest minute today, else the day's first recording); a click on the timeline plays
// from the clicked time. The day is picked in the page's language (‹ › and a calendar that
// marks the days with recordings); speed, frame step and keys; a clip between two marks is
// exported as MP4 through MediaMTX's /get. Today's timeline grows while recording goes on.
import { ApiError, cameras, getJSON, request } from './api.js';
import { lang, t } from './i18n.js';
import { banner, bannerError, explain, fileStamp, saveAs, setupHeader, signedIn } from './page.js';
import { Timeline } from './timeline.js';
import { VodPlayer } from './vod.js';

const $ = (id) => document.getElementById(id);
const FRAME_S = 0.04;            // one frame at 25 fps (the playlist does not say the rate)
const CLIP_MAX_S = 3600;         // longest export offered (the server allows more)
const SPEEDS = [0.25, 0.5, 1, 2, 4, 8];
const locale = () => (lang() === 'pt' ? 'pt-BR' : lang());

const pad = (x) => String(x).padStart(2, '0');
const dayOf = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

function dayRange(day) {
    const [y, m, d] = day.split('-').map(Number);
    const start = new Date(y, m - 1, d).getTime();   // local midnight
    return [start, new Date(y, m - 1, d + 1).getTime()];
}

function shiftDay(day, n) {
    const [y, m, d] = day.split('-').map(Number);
    return dayOf(new Date(y, m - 1, d + n));
}

function clock(ms) {
    return new Date(ms).toLocaleTimeString(locale(), { hour12: false });
}

// A month of the calendar: a grid of days, those with recordings marked (data-rec).
async function showCalendar(box, camera, month, selected, pick) {
    const [y, m] = month.split('-').map(Number);
    const first = new Date(y, m - 1, 1);
    const next = new Date(y, m, 1);
    const marked = new Set();
    try {
        const q = new URLSearchParams({ start: first.toISOString(), end: next.toISOString() });
        const data = await getJSON(`/api/playback/${encodeURIComponent(camera)}/timeline?${q}`);
        for (const s of data.spans || []) {
            for (let d = new Date(Date.parse(s.start)); d.getTime() < Date.parse(s.end);
                d = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1)) marked.add(dayOf(d));
        }
    } catch (e) {
        if (!(e instanceof ApiError && e.status === 404)) bannerError(e);
    }
    box.replaceChildren();
    const head = document.createElement('div');
    head.className = 'calendar-head';
    const prev = Object.assign(document.createElement('button'), { type: 'button', textContent: '‹' });
    const nextB = Object.assign(document.createElement('button'), { type: 'button', textContent: '›' });
    const title = document.createElement('span');
    title.textContent = first.toLocaleDateString(locale(), { month: 'long', year: 'numeric' });
    prev.addEventListener('click', () => showCalendar(box, camera, dayOf(new Date(y, m - 2, 1)).slice(0, 7), selected, pick));
    nextB.addEventListener('click', () => showCalendar(box, camera, dayOf(next).slice(0, 7), selected, pick));
    head.append(prev, title, nextB);
    const grid = document.createElement('div');
    grid.className = 'calendar-grid';
    // weekday names, Sunday first (as calendars in Brazil and the US)
    for (let i = 0; i < 7; i++) {
        const w = document.createElement('span');
        w.className = 'weekday';
        w.textContent = new Date(2026, 10, 1 + i).toLocaleDateString(locale(), { weekday: 'narrow' });
        grid.append(w);
    }
    for (let i = 0; i < first.getDay(); i++) grid.append(document.createElement('span'));
    for (let d = new Date(first); d < next; d = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1)) {
        const day = dayOf(d);
        const b = Object.assign(document.createElement('button'), { type: 'button', textContent: String(d.getDate()) });
        b.dataset.day = day;
        if (marked.has(day)) b.dataset.rec = '1';
        if (day === selected) b.dataset.selected = '1';
        b.disabled = d.getTime() > Date.now();
        b.addEventListener('click', () => pick(day));
        grid.append(b);
    }
    box.append(head, grid);
    box.hidden = false;
}

async function main() {
    setupHeader();
    await signedIn($('main'));
    const params = new URLSearchParams(location.search);
    const camSel = $('camera');
    const daySel = $('day');
    const status = $('status');
    const video = $('video');
    daySel.value = params.get('day') || dayOf(new Date());
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
    const vod = new VodPlayer(video);
    window.vmsTimeline = timeline;
    window.vmsVod = vod;
    let loaded = null;   // {camera, start, end}
    let refresher = null;

    // what went wrong, in the page's language; "sign in again" when the session ended
    function failed(e) {
        const { text, signIn } = explain(e);
        status.textContent = text;
        if (signIn) banner('session', text);
    }

    function showDay() {
        const [y, m, d] = daySel.value.split('-').map(Number);
        $('day-label').textContent = new Date(y, m - 1, d)
            .toLocaleDateString(locale(), { weekday: 'short', day: '2-digit', month: '2-digit', year: 'numeric' });
        $('day-next').disabled = daySel.value >= dayOf(new Date());
    }

    async function timelineOf(camera, start, end) {
        const q = new URLSearchParams({ start: new Date(start).toISOString(), end: new Date(end).toISOString() });
        try {
            return await getJSON(`/api/playback/${encodeURIComponent(camera)}/timeline?${q}`);
        } catch (e) {
            if (e instanceof ApiError && e.status === 404) return { start: q.get('start'), end: q.get('end'), spans: [], gaps: [] };
            throw e;
        }
    }

    // Plays from wall time `at` (a time in a gap goes on to the next recording).
    async function playFrom(at) {
        const shown = await vod.seek(at);
        status.dataset.seekTo = String(at);
        status.dataset.seekShown = shown == null ? '' : String(Math.round(shown));
        status.textContent = shown == null ? t('no_recordings') : clock(shown);
        return shown;
    }

    async function load({ at = null } = {}) {
        const camera = camSel.value;
        showDay();
        clearInterval(refresher);
        if (!camera) return;
        const [start, end] = dayRange(daySel.value);
        status.textContent = '';
        if (!loaded || loaded.camera !== camera || loaded.start !== start) {
            clip.from = clip.to = null;       // marks belong to the day and camera they were made on
            showClip();
            $('clock').textContent = '';
        }
        let data;
        try {
            data = await timelineOf(camera, start, end);
        } catch (e) {
            failed(e);
            return;
        }
        timeline.setData(data);
        document.body.dataset.spans = String(timeline.spans.length);
        if (!timeline.spans.length) {
            loaded = null;
            vod.clear();                  // not the previous day's picture
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
            return;
        }
        // plays at once: the asked time, else today's latest minute, else the day's first recording
        const spans = timeline.spans;
        const last = spans[spans.length - 1];
        const today = end > Date.now();
        await playFrom(at ?? (today ? Math.max(last.start, last.end - 60_000) : spans[0].start));
        // today: the timeline grows while recording goes on (the playlist, when playing reaches its end)
        if (today) {
            refresher = setInterval(async () => {
                if (!loaded || loaded.camera !== camera || loaded.start !== start) return;
                try {
                    timeline.setData(await timelineOf(camera, start, end), { keepView: true });
                    document.body.dataset.spans = String(timeline.spans.length);
                } catch { /* the next tick tries again */ }
            }, 30_000);
        }
    }

    // A wall time past what the loaded playlist holds (recorded since): load again, then play.
    async function seekTo(at) {
        if (!loaded) return;
        const loadedEnd = vod.loadedEnd();
        if (loadedEnd != null && at >= loadedEnd && at < Date.now()) {
            await load({ at });
            return;
        }
        await playFrom(at);
    }

    timeline.addEventListener('seek', (ev) => seekTo(ev.detail.time));
    video.addEventListener('timeupdate', () => {
        const w = vod.wallTime();
        if (w != null) {
            timeline.setCursor(w);
            $('clock').textContent = clock(w);
        }
    });
    // today, playing on past the playlist's end: what was recorded since
    video.addEventListener('ended', () => {
        const end = vod.loadedEnd();
        if (loaded && end != null && loaded.end > Date.now()) load({ at: end });
    });
    $('zoom-in').addEventListener('click', () => timeline.zoomIn());
    $('zoom-out').addEventListener('click', () => timeline.zoomOut());
    $('load').addEventListener('click', () => load());
    camSel.addEventListener('change', () => load());
    const setDay = (day) => {
        daySel.value = day;
        $('calendar').hidden = true;
        const u = new URL(location.href);
        u.searchParams.set('day', day);
        u.searchParams.delete('t');
        history.replaceState(null, '', u.href);
        load();
    };
    $('day-prev').addEventListener('click', () => setDay(shiftDay(daySel.value, -1)));
    $('day-next').addEventListener('click', () => setDay(shiftDay(daySel.value, 1)));
    $('day-label').addEventListener('click', () => {
        const box = $('calendar');
        if (!box.hidden) {
            box.hidden = true;
            return;
        }
        showCalendar(box, camSel.value, daySel.value.slice(0, 7), daySel.value, setDay);
    });
    $('zoom-in').textContent = '+';
    $('zoom-out').textContent = '−';

    // speed, frame step, keys
    const speed = $('speed');
    for (const s of SPEEDS) speed.add(new Option(`${s}×`, String(s)));
    speed.value = '1';
    speed.addEventListener('change', () => { video.playbackRate = Number(speed.value); });
    video.addEventListener('loadeddata', () => { video.playbackRate = Number(speed.value); });
    const step = (n) => {
        video.pause();
        video.currentTime = Math.max(0, video.currentTime + n * FRAME_S);
    };
    $('frame-back').addEventListener('click', () => step(-1));
    $('frame-next').addEventListener('click', () => step(1));
    addEventListener('keydown', (ev) => {
        // not while typing or choosing, and the video's own controls keep their keys when it has focus
        const busy = ev.target.closest && ev.target.closest('input, select, textarea, video');
        if (busy || ev.ctrlKey || ev.metaKey || ev.altKey) return;
        const seekBy = (s) => {
            const w = vod.wallTime();
            if (w != null) seekTo(w + s * 1000);
        };
        switch (ev.key) {
        case ' ':
            if (video.paused) video.play().catch(() => {});
            else video.pause();
            break;
        case 'ArrowLeft': seekBy(ev.shiftKey ? -60 : -5); break;
        case 'ArrowRight': seekBy(ev.shiftKey ? 60 : 5); break;
        case ',': step(-1); break;
        case '.': step(1); break;
        default: return;
        }
        ev.preventDefault();
    });

    // clip export between two marks (the playing position when each was pressed), through /get
    const clip = { from: null, to: null };
    const showClip = () => {
        const ok = clip.from != null && clip.to != null && clip.to > clip.from && clip.to - clip.from <= CLIP_MAX_S * 1000;
        $('clip-range').textContent = clip.from == null && clip.to == null ? ''
            : ok ? t('clip_range', { from: clock(clip.from), to: clock(clip.to), seconds: Math.round((clip.to - clip.from) / 1000) })
                : t('clip_bad', { max: CLIP_MAX_S });
        $('export').disabled = !ok;
    };
    const mark = (k) => {
        const w = vod.wallTime();
        if (w == null) return;
        clip[k] = Math.round(w);
        showClip();
    };
    $('mark-start').addEventListener('click', () => mark('from'));
    $('mark-end').addEventListener('click', () => mark('to'));
    showClip();
    $('export').addEventListener('click', async () => {
        if (!loaded || $('export').disabled) return;
        const q = new URLSearchParams({
            path: loaded.camera, start: new Date(clip.from).toISOString(),
            duration: `${((clip.to - clip.from) / 1000).toFixed(3)}s`, format: 'mp4',
        });
        const button = $('export');
        button.disabled = true;
        status.textContent = t('exporting');
        try {
            const res = await request(`/get?${q}`);
            saveAs(URL.createObjectURL(await res.blob()), `${loaded.camera}-${fileStamp(clip.from)}.mp4`);
            status.textContent = t('clip_range', { from: clock(clip.from), to: clock(clip.to), seconds: Math.round((clip.to - clip.from) / 1000) });
        } catch (e) {
            if (e instanceof ApiError && e.status === 404) status.textContent = t('no_recordings');
            else failed(e);
        } finally {
            button.disabled = false;
        }
    });

    // ?t=MS (epoch milliseconds, e.g. from an event on events.html): play from that moment
    const at = Number(params.get('t'));
    await load({ at: at > 0 ? at : null });
}

main();
