// roi.html?camera=ID: draw the camera's regions of interest over its live
// picture (which gives the source resolution) and save them as the camera's
// roi_areas through the cameras API (GET/PATCH /api/cameras/{id},
// docs/scale-out.md). Where cameras come from vmsd.conf (cluster = off: 409),
// or the token may not change them (403), the roi_areas line is shown to be
// copied into the camera's section of vmsd.conf (docs/ai.md), as before.
import { getJSON } from './api.js';
import { t } from './i18n.js';
import { banner, bannerError, cameraPicker, explain, setupHeader, signedIn } from './page.js';
import { VmsPlayer } from './player.js';
import { parseAreas, RoiEditor, sameAreas } from './roi-editor.js';

// The camera's saved config: {mode: 'api', areas (null: unreadable)} or {mode: 'snippet', why (i18n key)}.
async function readSaved(camera) {
    try {
        const r = await getJSON(`/api/cameras/${encodeURIComponent(camera)}`);
        return { mode: 'api', areas: parseAreas(r.config && r.config.roi_areas) };
    } catch (e) {
        if (e.status === 409) return { mode: 'snippet', why: 'roi_cluster_off' };
        if (e.status === 403) return { mode: 'snippet', why: 'roi_needs_manage_config' };
        return { mode: 'error', error: e };
    }
}

// A refused save as the user is told it: {text, snippet (saving cannot work here: copy instead)}.
function saveError(e, camera) {
    if (e.status === 400) return { text: t('roi_save_invalid', { field: (e.body && e.body.field) || 'roi_areas' }) };
    if (e.status === 403) return { text: t('roi_needs_manage_config'), snippet: true };
    if (e.status === 409) return { text: t('roi_cluster_off'), snippet: true };
    if (e.status === 404) return { text: t('camera_unknown', { id: camera }) };
    if (e.status === 503) return { text: t('roi_save_unavailable') };
    return { text: explain(e).text };
}

async function main() {
    setupHeader();
    const camera = new URLSearchParams(location.search).get('camera') || '';
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(camera)) {
        if (camera === '') await cameraPicker(document.getElementById('main'), (id) => `roi.html?camera=${encodeURIComponent(id)}`);
        else banner('server', t('no_cameras'));
        return;
    }
    await signedIn(document.getElementById('main'));
    const out = document.getElementById('roi-out');
    const save = document.getElementById('roi-save');
    const status = document.getElementById('roi-status');
    const say = (text, kind = '') => {
        status.textContent = text;
        status.dataset.kind = kind;
    };
    let mode = 'loading';
    let saved = [];                 // what the camera has (api mode)
    let editor = null;
    const snippetOnly = (why) => {
        mode = 'snippet';
        save.hidden = true;
        say(t(why));
    };
    const refresh = () => {
        if (!editor) return;
        out.value = `[camera ${camera}]\n${editor.configLine()}`;
        if (mode === 'api') {
            save.disabled = false;
            const same = saved && sameAreas(saved, editor.value());
            say(t(same ? 'roi_saved_state' : 'roi_unsaved'));
        }
    };

    say(t('roi_loading'));
    const loading = readSaved(camera).then((r) => {
        if (r.mode === 'snippet') {
            snippetOnly(r.why);
        } else if (r.mode === 'error') {
            // the snippet still works; the reason goes to the banner (sign in again on 401)
            if (r.error.status === 401) bannerError(r.error);
            say(r.error.status === 404 ? t('camera_unknown', { id: camera }) : explain(r.error).text, 'error');
            mode = 'snippet';
            save.hidden = true;
        } else {
            mode = 'api';
            saved = r.areas;
            if (saved === null) say(t('roi_saved_invalid'), 'error');
        }
    });

    const player = new VmsPlayer(document.getElementById('player'), camera, window.vmsPlayerOptions || {});
    player.start();
    addEventListener('pagehide', () => player.stop());
    out.value = t('roi_waiting');
    // the source size is the live video's own (stream copy keeps the camera's resolution)
    const video = player.video;
    await new Promise((resolve) => {
        const check = () => (video.videoWidth > 0 ? resolve() : setTimeout(check, 200));
        check();
    });
    editor = new RoiEditor(document.getElementById('roi-canvas'), { width: video.videoWidth, height: video.videoHeight });
    await loading;
    if (mode === 'api' && saved) editor.setAreas(saved);
    window.vmsRoi = editor;
    editor.addEventListener('change', refresh);
    refresh();
    if (mode === 'api' && saved === null) say(t('roi_saved_invalid'), 'error');

    save.addEventListener('click', async () => {
        if (mode !== 'api' || save.disabled) return;
        const areas = editor.value();
        save.disabled = true;
        say(t('roi_saving'));
        try {
            const r = await getJSON(`/api/cameras/${encodeURIComponent(camera)}`, { method: 'PATCH', json: { roi_areas: areas } });
            saved = parseAreas(r.config && r.config.roi_areas) ?? areas;
            save.disabled = false;
            // changed again while saving: say so (the change event already did)
            if (sameAreas(saved, editor.value())) say(t('roi_saved'), 'ok');
            else refresh();
        } catch (e) {
            const why = saveError(e, camera);
            if (e.status === 401) bannerError(e);
            if (why.snippet) {
                mode = 'snippet';
                save.hidden = true;
            } else {
                save.disabled = false;
            }
            say(why.text, 'error');
        }
    });
    document.getElementById('roi-delete').addEventListener('click', () => editor.removeSelected());
    document.getElementById('roi-clear').addEventListener('click', () => editor.clear());
    addEventListener('keydown', (ev) => {
        if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLTextAreaElement) return;
        if (ev.key === 'Delete' || ev.key === 'Backspace') editor.removeSelected();
    });
}

main();
