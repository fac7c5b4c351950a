// roi.html?camera=ID: draw the camera's regions of interest over its live
// picture (which gives the source resolution) and copy the resulting
// roi_areas line into the camera's section of vmsd.conf (docs/ai.md).
import { t } from './i18n.js';
import { banner, cameraPicker, setupHeader, signedIn } from './page.js';
import { VmsPlayer } from './player.js';
import { RoiEditor } from './roi-editor.js';

async function main() {
    setupHeader();
    const camera = new URLSearchParams(location.search).get('camera') || '';
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(camera)) {
        if (camera === '') await cameraPicker(document.getElementById('main'), (id) => `roi.html?camera=${encodeURIComponent(id)}`);
        else banner('server', t('no_cameras'));
        return;
    }
    await signedIn(document.getElementById('main'));
    const player = new VmsPlayer(document.getElementById('player'), camera, window.vmsPlayerOptions || {});
    player.start();
    addEventListener('pagehide', () => player.stop());
    const out = document.getElementById('roi-out');
    out.value = t('roi_waiting');
    // the source size is the live video's own (stream copy keeps the camera's resolution)
    const video = player.video;
    await new Promise((resolve) => {
        const check = () => (video.videoWidth > 0 ? resolve() : setTimeout(check, 200));
        check();
    });
    const editor = new RoiEditor(document.getElementById('roi-canvas'), { width: video.videoWidth, height: video.videoHeight });
    window.vmsRoi = editor;
    const show = () => {
        out.value = `[camera ${camera}]\n${editor.configLine()}`;
    };
    editor.addEventListener('change', show);
    show();
    document.getElementById('roi-delete').addEventListener('click', () => editor.removeSelected());
    document.getElementById('roi-clear').addEventListener('click', () => editor.clear());
    addEventListener('keydown', (ev) => {
        if (ev.key === 'Delete' || ev.key === 'Backspace') editor.removeSelected();
    });
}

main();
