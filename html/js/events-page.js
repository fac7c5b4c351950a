// events.html: review events (GET /api/events, newest first, paged), live as they happen
// (/api/events/live), a thumbnail per event, a click opens the recording at that moment; the
// cameras' state (online / offline / frozen) kept live; the AI cost (admins).
import { ApiError, cameras, getJSON, request } from './api.js';
import { t } from './i18n.js';
import { LiveEvents } from './live-events.js';
import { banner, bannerError, explain, setupHeader, signedIn } from './page.js';
import { claims } from './session.js';

const $ = (id) => document.getElementById(id);
const feed = new Map();                  // event id -> <li>
const status = new Map();                // camera -> state
let cursor = null;

function clock(iso) {
    return new Date(iso).toLocaleString(document.documentElement.lang, { hour12: false });
}

function day(iso) {
    const d = new Date(iso);
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

// the recording at the event's start, 5 s before it
function playbackHref(ev) {
    const at = new Date(ev.start).getTime() - 5000;
    const q = new URLSearchParams({ camera: ev.camera_id, day: day(ev.start), t: String(at) });
    return `playback.html?${q}`;
}

function filters() {
    return { camera: $('f-camera').value, label: $('f-label').value.trim(), score: Number($('f-score').value) || 0 };
}

function matches(ev) {
    const f = filters();
    return (!f.camera || ev.camera_id === f.camera) && (!f.label || ev.labels.includes(f.label))
        && ev.max_score >= f.score;
}

// thumbnails need the Authorization header: fetched, shown from a blob URL
async function thumbnail(img, ev) {
    try {
        const res = await request(`/api/events/${encodeURIComponent(ev.id)}/snapshot.jpg`);
        img.src = URL.createObjectURL(await res.blob());
        img.hidden = false;
    } catch {
        img.hidden = true;
    }
}

function render(ev, { live = false } = {}) {
    let li = feed.get(ev.id);
    const fresh = !li;
    if (fresh) {
        li = document.createElement('li');
        li.className = 'event';
        li.innerHTML = `<a><img alt="" hidden><span class="when"></span><span class="cam"></span>
            <span class="labels"></span><span class="score"></span><span class="state"></span></a>`;
        feed.set(ev.id, li);
    }
    li.dataset.id = ev.id;
    li.dataset.camera = ev.camera_id;
    li.dataset.state = ev.state;
    li.querySelector('a').href = playbackHref(ev);
    li.querySelector('.when').textContent = clock(ev.start);
    li.querySelector('.cam').textContent = ev.camera_id;
    li.querySelector('.labels').textContent = ev.labels.join(', ');
    li.querySelector('.score').textContent = `${Math.round(ev.max_score * 100)}%`;
    li.querySelector('.state').textContent = t(ev.state === 'open' ? 'event_open' : 'event_closed');
    const snapChanged = li.dataset.snapshot !== (ev.snapshot_detection || '');
    li.dataset.snapshot = ev.snapshot_detection || '';
    if (ev.snapshot_detection && snapChanged) thumbnail(li.querySelector('img'), ev);
    if (fresh) {
        if (live) $('feed').prepend(li);
        else $('feed').append(li);
    }
    li.hidden = !matches(ev);
    $('feed-status').textContent = feed.size ? '' : t('no_events');
}

async function loadPage(reset) {
    const f = filters();
    if (reset) {
        cursor = null;
        feed.clear();
        $('feed').replaceChildren();
    }
    const q = new URLSearchParams({ limit: '30' });
    if (f.camera) q.set('camera', f.camera);
    if (f.label) q.set('label', f.label);
    if (f.score > 0) q.set('min_score', String(f.score));
    if (cursor) q.set('cursor', cursor);
    try {
        const r = await getJSON(`/api/events?${q}`);
        for (const ev of r.events) render(ev);
        cursor = r.next_cursor;
        $('more').hidden = !cursor;
        $('feed-status').textContent = feed.size ? '' : t('no_events');
    } catch (e) {
        $('feed-status').textContent = explain(e).text;
        if (e instanceof ApiError && e.status === 401) bannerError(e);
    }
}

function showStatus(camera, state) {
    status.set(camera, state);
    let li = document.querySelector(`#cameras li[data-camera="${CSS.escape(camera)}"]`);
    if (!li) {
        li = document.createElement('li');
        li.dataset.camera = camera;
        li.innerHTML = '<span class="dot"></span><span class="name"></span> <span class="what"></span>';
        li.querySelector('.name').textContent = camera;
        $('cameras').append(li);
    }
    li.dataset.state = state;
    li.querySelector('.what').textContent = t(`state_${state}`);
}

const STATE_OF = { 'camera.online': 'online', 'camera.offline': 'offline', 'stream.frozen': 'frozen' };

async function aiCost() {
    const box = $('ai-cost');
    try {
        const r = await getJSON('/api/analytics/ai-cost');
        const table = document.createElement('table');
        const row = (a, b, parent) => {
            const tr = parent.insertRow();
            tr.insertCell().textContent = a;
            tr.insertCell().textContent = b;
        };
        const body = table.createTBody();
        for (const c of r.cameras || []) {
            const usd = (c.days || []).reduce((s, d) => s + (d.cost_usd || 0), 0);
            row(c.camera_id, `$${usd.toFixed(4)}`, body);
        }
        row(t('total'), `$${Number(r.total_usd || 0).toFixed(4)}`, table.createTFoot());
        box.replaceChildren(table);
    } catch (e) {
        box.textContent = e instanceof ApiError && e.status === 403 ? t('admins_only') : t('unavailable');
    }
}

async function main() {
    setupHeader();
    await signedIn($('main'));
    // the cameras this token may watch (its claim), else every camera vmsd reports
    const c = claims();
    let list = Array.isArray(c.cameras) ? c.cameras : c.camera_id ? [c.camera_id] : null;
    try {
        const known = await cameras();
        for (const k of known) if (!list || list.includes(k.id)) showStatus(k.id, k.status === 'online' ? 'online' : k.status);
        if (!list) list = known.map((k) => k.id);
    } catch (e) {
        if (e instanceof ApiError && e.serverDown) banner('maintenance', t('maintenance'));
        list = list || [];
        for (const id of list) showStatus(id, 'unknown');
    }
    for (const id of list) $('f-camera').add(new Option(id, id));
    $('filters').addEventListener('submit', (ev) => {
        ev.preventDefault();
        loadPage(true);
    });
    $('more').addEventListener('click', () => loadPage(false));
    await loadPage(true);
    aiCost();
    if (!list.length) return;
    const live = new LiveEvents(list.slice(0, 64)).start();
    window.vmsLive = live;
    live.addEventListener('state', (e) => {
        $('live-state').dataset.state = e.detail.state;
        $('live-state').textContent = t(`live_${e.detail.state}`);
        if (e.detail.state === 'denied') banner('server', t('not_authorized'));
    });
    live.addEventListener('message', (e) => {
        const m = e.detail;
        if (m.type === 'review.event' && m.event) render(m.event, { live: true });
        else if (STATE_OF[m.type] && m.camera_id) showStatus(m.camera_id, STATE_OF[m.type]);
        document.body.dataset.liveMessages = String(Number(document.body.dataset.liveMessages || 0) + 1);
    });
}

main();
