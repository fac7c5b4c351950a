// Canvas timeline of one camera's recordings: recorded spans, gaps (only
// up to now: the future is not a gap, it is drawn apart), hour ticks, the
// play position; zoom with the wheel or zoomIn()/zoomOut()
// around a point, drag to pan. A click dispatches 'seek' {time} (ms since the
// epoch, UTC) for the point under the pointer.
const COLORS = {
    bg: '#1b2128', span: '#2e9d5b', gap: '#5a2a2a', future: '#12161b', tick: '#93a1ad', text: '#e8ecef', cursor: '#ffcc33',
};
const MIN_VIEW_MS = 60_000;            // zoomed in at most to one minute across
const STEPS = [1, 5, 10, 15, 30, 60, 120, 180, 360, 720].map((m) => m * 60_000);

export class Timeline extends EventTarget {
    constructor(canvas) {
        super();
        this.canvas = canvas;
        this.ctx = canvas.getContext('2d');
        this.range = [0, 1];           // the whole loaded period
        this.view = [0, 1];            // the part shown
        this.spans = [];
        this.gaps = [];
        this.cursor = null;
        this.dragging = null;
        canvas.addEventListener('wheel', (ev) => {
            ev.preventDefault();
            const t = this.timeAt(ev.offsetX);
            if (ev.deltaY < 0) this.zoomIn(t);
            else this.zoomOut(t);
        }, { passive: false });
        canvas.addEventListener('pointerdown', (ev) => {
            this.dragging = { x: ev.offsetX, view: [...this.view], moved: false };
            canvas.setPointerCapture(ev.pointerId);
        });
        canvas.addEventListener('pointermove', (ev) => {
            if (!this.dragging) return;
            const dx = ev.offsetX - this.dragging.x;
            if (Math.abs(dx) > 3) this.dragging.moved = true;
            if (!this.dragging.moved) return;
            const msPerPx = (this.dragging.view[1] - this.dragging.view[0]) / this.width();
            this.setView(this.dragging.view[0] - dx * msPerPx, this.dragging.view[1] - dx * msPerPx);
        });
        canvas.addEventListener('pointerup', (ev) => {
            const d = this.dragging;
            this.dragging = null;
            if (d && !d.moved) this.dispatchEvent(new CustomEvent('seek', { detail: { time: this.timeAt(ev.offsetX) } }));
        });
        new ResizeObserver(() => this.draw()).observe(canvas);
    }

    // data: the /timeline answer ({start, end, spans:[{start,end}], gaps:[{start,end}]}).
    // keepView: a refresh of the same period (recording goes on): the user's zoom stays.
    setData(data, { keepView = false } = {}) {
        const ms = (s) => Date.parse(s);
        this.range = [ms(data.start), ms(data.end)];
        this.spans = (data.spans || []).map((s) => ({ start: ms(s.start), end: ms(s.end) }));
        this.gaps = (data.gaps || []).map((s) => ({ start: ms(s.start), end: ms(s.end) }));
        if (keepView) this.draw();
        else this.fitSpans();
    }

    // Shows the recorded part of the period (with a margin), or all of it when empty.
    fitSpans() {
        if (!this.spans.length) {
            this.setView(...this.range);
            return;
        }
        const a = this.spans[0].start;
        const b = this.spans[this.spans.length - 1].end;
        const pad = Math.max((b - a) * 0.1, MIN_VIEW_MS);
        this.setView(a - pad, b + pad);
    }

    setCursor(time) {
        this.cursor = time;
        this.draw();
    }

    width() {
        return this.canvas.clientWidth || this.canvas.width;
    }

    timeAt(x) {
        return Math.round(this.view[0] + (x / this.width()) * (this.view[1] - this.view[0]));
    }

    xOf(t) {
        return ((t - this.view[0]) / (this.view[1] - this.view[0])) * this.width();
    }

    zoomIn(center = this.cursor ?? (this.view[0] + this.view[1]) / 2) {
        this.zoom(center, 0.5);
    }

    zoomOut(center = this.cursor ?? (this.view[0] + this.view[1]) / 2) {
        this.zoom(center, 2);
    }

    zoom(center, factor) {
        const span = Math.max(MIN_VIEW_MS, (this.view[1] - this.view[0]) * factor);
        const left = (center - this.view[0]) / (this.view[1] - this.view[0]);
        this.setView(center - span * left, center - span * left + span);
    }

    setView(a, b) {
        const full = this.range[1] - this.range[0];
        let span = Math.min(b - a, full);
        a = Math.max(this.range[0], Math.min(a, this.range[1] - span));
        this.view = [a, a + span];
        this.draw();
        this.dispatchEvent(new CustomEvent('view', { detail: { start: this.view[0], end: this.view[1] } }));
    }

    draw() {
        const c = this.canvas;
        const dpr = window.devicePixelRatio || 1;
        const w = c.clientWidth || 600;
        const h = c.clientHeight || 72;
        if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
            c.width = Math.round(w * dpr);
            c.height = Math.round(h * dpr);
        }
        const g = this.ctx;
        g.setTransform(dpr, 0, 0, dpr, 0, 0);
        g.fillStyle = COLORS.bg;
        g.fillRect(0, 0, w, h);
        const barTop = 8;
        const barH = h - 30;
        const now = Date.now();
        for (const s of this.gaps) if (s.start < now) this.fillSpan(g, { start: s.start, end: Math.min(s.end, now) }, COLORS.gap, barTop, barH);
        for (const s of this.spans) this.fillSpan(g, s, COLORS.span, barTop, barH);
        if (now < this.view[1]) this.fillSpan(g, { start: now, end: this.view[1] }, COLORS.future, barTop, barH);
        // ticks (local time): the smallest step that leaves ~90 px between labels
        const span = this.view[1] - this.view[0];
        const step = STEPS.find((s) => (s / span) * w >= 90) || STEPS[STEPS.length - 1];
        g.fillStyle = COLORS.text;
        g.strokeStyle = COLORS.tick;
        g.font = '11px "DejaVu Sans", sans-serif';
        g.textBaseline = 'top';
        for (let t = Math.ceil(this.view[0] / step) * step; t <= this.view[1]; t += step) {
            const x = Math.round(this.xOf(t)) + 0.5;
            g.beginPath();
            g.moveTo(x, barTop + barH);
            g.lineTo(x, barTop + barH + 5);
            g.stroke();
            const d = new Date(t);
            const label = `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
            g.fillText(label, Math.min(Math.max(0, x - 14), w - 30), barTop + barH + 7);
        }
        if (this.cursor != null && this.cursor >= this.view[0] && this.cursor <= this.view[1]) {
            const x = Math.round(this.xOf(this.cursor)) + 0.5;
            g.strokeStyle = COLORS.cursor;
            g.lineWidth = 2;
            g.beginPath();
            g.moveTo(x, 2);
            g.lineTo(x, barTop + barH + 2);
            g.stroke();
            g.lineWidth = 1;
        }
    }

    fillSpan(g, s, color, top, height) {
        const a = Math.max(0, this.xOf(s.start));
        const b = Math.min(this.width(), this.xOf(s.end));
        if (b <= a) return;
        g.fillStyle = color;
        g.fillRect(a, top, Math.max(1, b - a), height);
    }
}
