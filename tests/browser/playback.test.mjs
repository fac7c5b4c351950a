// The recordings page as a first-time user drives it (issue #19 item 6): it plays at once (no
// click needed), the day is shown in the page's language, the calendar marks the days with
// recordings, a day without any shows no earlier picture, the future is not painted as a gap;
// speed, frame step and keys; a clip between two marks is exported through /get as an MP4 of
// that length (ffprobe reads it).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BASE, env, openBrowser, screenshot } from './lib.mjs';

const wall = (page) => page.evaluate(() => window.vmsVod.wallTime());

async function seekTo(page, time) {
    await page.evaluate((t) => window.vmsTimeline.dispatchEvent(new CustomEvent('seek', { detail: { time: t } })), time);
    await page.waitForFunction((t) => document.getElementById('status').dataset.seekTo === String(t), time, { timeout: 10_000 });
    await page.waitForFunction(() => document.getElementById('video').readyState >= 3, null, { timeout: 20_000 });
}

test('recordings play at once, in the page\'s language, with speed, frame step, keys, calendar and clip export', async () => {
    const camera = env('VMS_PLAYBACK_CAMERA');
    const day = env('VMS_PLAYBACK_DAY');                      // the browser's local today
    const [y, m, d] = day.split('-');
    const b = await openBrowser();
    try {
        const page = await b.page(env('VMS_PLAYBACK2_TOKEN'));
        await page.goto(`${BASE()}/playback.html?camera=${camera}&day=${day}`);
        // plays without a click, from inside a recorded span
        await page.waitForFunction(() => {
            const v = document.getElementById('video');
            return v.readyState >= 3 && !v.paused && v.currentTime > 0;
        }, null, { timeout: 40_000, polling: 250 });
        const spans = await page.evaluate(() => window.vmsTimeline.spans);
        const w0 = await wall(page);
        assert.ok(spans.some((s) => w0 >= s.start - 1000 && w0 <= s.end), `playing at ${w0}, spans ${JSON.stringify(spans)}`);
        assert.match(await page.textContent('#day-label'), new RegExp(`${d}/${m}/${y}`));   // pt-BR: DD/MM/YYYY

        // speed
        await page.selectOption('#speed', '2');
        assert.equal(await page.$eval('#video', (v) => v.playbackRate), 2);
        await page.selectOption('#speed', '1');

        // keys: space pauses, '.' steps one frame, ← goes back 5 s
        await seekTo(page, spans[1].start + 5500);
        await page.click('#status');                           // focus off the controls
        await page.keyboard.press(' ');
        await page.waitForFunction(() => document.getElementById('video').paused, null, { timeout: 5000 });
        const t0 = await page.$eval('#video', (v) => v.currentTime);
        await page.keyboard.press('.');
        const t1 = await page.$eval('#video', (v) => v.currentTime);
        assert.ok(Math.abs(t1 - t0 - 0.04) < 0.011, `frame step ${t1 - t0}`);
        const before = await wall(page);
        await page.keyboard.press('ArrowLeft');
        await page.waitForFunction((w) => {
            const now = window.vmsVod.wallTime();
            return now != null && Math.abs(now - (w - 5000)) < 1000;
        }, before, { timeout: 10_000 });

        // a clip between two marks, through /get: an MP4 of that length
        await seekTo(page, spans[1].start + 500);
        await page.click('#status');
        await page.keyboard.press(' ');
        await page.waitForFunction(() => document.getElementById('video').paused, null, { timeout: 5000 });
        await page.click('#mark-start');
        await seekTo(page, spans[1].start + 4500);
        await page.evaluate(() => document.getElementById('video').pause());
        await page.click('#mark-end');
        const range = await page.textContent('#clip-range');
        assert.match(range, /\((3|4) s\)$/);
        const [download] = await Promise.all([
            page.waitForEvent('download', { timeout: 30_000 }),
            page.click('#export'),
        ]);
        assert.match(download.suggestedFilename(), new RegExp(`^${camera}-\\d{8}-\\d{6}\\.mp4$`));
        const file = await download.path();
        const bytes = readFileSync(file);
        assert.equal(bytes.subarray(4, 8).toString(), 'ftyp');
        const seconds = Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]).toString());
        assert.ok(seconds > 3 && seconds < 5, `clip of ${seconds} s`);
        await screenshot(page, 'playback-controls');

        // the calendar marks the day with recordings, not the day before
        await page.click('#day-label');
        await page.waitForSelector('#calendar:not([hidden]) .calendar-grid', { timeout: 10_000 });
        assert.equal(await page.getAttribute(`#calendar button[data-day="${day}"]`, 'data-rec'), '1');
        const prevDay = await page.evaluate((dd) => {
            const [yy, mm, dn] = dd.split('-').map(Number);
            const p = new Date(yy, mm - 1, dn - 1);
            return `${p.getFullYear()}-${String(p.getMonth() + 1).padStart(2, '0')}-${String(p.getDate()).padStart(2, '0')}`;
        }, day);
        if (prevDay.slice(0, 7) === day.slice(0, 7)) {
            assert.equal(await page.getAttribute(`#calendar button[data-day="${prevDay}"]`, 'data-rec'), null);
        }
        await screenshot(page, 'playback-calendar');
        await page.click('#day-label');

        // a day without recordings: said, and no earlier picture on screen
        await page.click('#day-prev');
        await page.waitForFunction(() => document.getElementById('status').textContent === 'Nenhuma gravação neste período',
            null, { timeout: 20_000 });
        // no source and no frame: the element shows nothing (HAVE_NOTHING)
        assert.deepEqual(await page.$eval('#video', (v) => [v.getAttribute('src'), v.readyState]), [null, 0]);
        assert.equal(await page.textContent('#clip-range'), '');   // the other day's marks are gone
        await screenshot(page, 'playback-empty-day');
        await page.click('#day-next');
        await page.waitForFunction(() => document.getElementById('video').readyState >= 3, null, { timeout: 30_000 });

        // the future is not a gap: the whole day shown, a point an hour ahead is drawn apart
        const colors = await page.evaluate(() => {
            const tl = window.vmsTimeline;
            tl.setView(...tl.range);
            const g = document.getElementById('timeline').getContext('2d');
            const px = (t) => [...g.getImageData(Math.round(tl.xOf(t) * devicePixelRatio), 20 * devicePixelRatio, 1, 1).data].slice(0, 3);
            return { future: px(Date.now() + 3600_000) };
        });
        assert.deepEqual(colors.future, [0x12, 0x16, 0x1b]);

        // in English: the day as English writes it
        await page.goto(`${BASE()}/playback.html?camera=${camera}&day=${day}&lang=en`);
        await page.waitForFunction(() => document.getElementById('day-label').textContent !== '', null, { timeout: 20_000 });
        assert.match(await page.textContent('#day-label'), new RegExp(`${m}/${d}/${y}`));
    } catch (e) {
        await b.dump('playback');
        throw e;
    } finally {
        await b.close();
    }
});
