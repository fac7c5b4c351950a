// ROI editor: rectangles drawn over a camera picture, kept in the camera's
// source pixels (what vmsd's roi_areas expects, docs/ai.md): drag to add,
// click to select, remove the selected one. At most 16 areas.
export const MAX_AREAS = 16;

// A camera's saved roi_areas as the cameras API returns it (docs/scale-out.md): its list, the same
// list as a JSON string (how vmsd.conf writes it), or absent (the whole frame). Returns the areas
// as {x, y, width, height} integers, or null when the value is not such a list.
export function parseAreas(value) {
    if (value === undefined || value === null || value === '') return [];
    let list = value;
    if (typeof value === 'string') {
        try {
            list = JSON.parse(value);
        } catch {
            return null;
        }
    }
    if (!Array.isArray(list) || list.length > MAX_AREAS) return null;
    const out = [];
    for (const a of list) {
        if (!a || typeof a !== 'object') return null;
        const r = { x: a.x, y: a.y, width: a.width, height: a.height };
        if (!Object.values(r).every((v) => Number.isInteger(v) && v >= 0)) return null;
        out.push(r);
    }
    return out;
}

// Whether two lists of areas are the same (the page says "not saved" while they differ).
export function sameAreas(a, b) {
    return a.length === b.length && a.every((r, i) => ['x', 'y', 'width', 'height'].every((k) => r[k] === b[i][k]));
}

export class RoiEditor extends EventTarget {
    // canvas: overlay sized like the picture; source: {width, height} of the camera frames.
    constructor(canvas, source) {
        super();
        this.canvas = canvas;
        this.ctx = canvas.getContext('2d');
        this.source = source;
        this.areas = [];          // [{x, y, width, height}] in source pixels
        this.selected = -1;
        this.drag = null;
        canvas.addEventListener('pointerdown', (ev) => {
            this.drag = { a: this.toSource(ev), b: this.toSource(ev) };
            canvas.setPointerCapture(ev.pointerId);
        });
        canvas.addEventListener('pointermove', (ev) => {
            if (!this.drag) return;
            this.drag.b = this.toSource(ev);
            this.draw();
        });
        canvas.addEventListener('pointerup', (ev) => {
            const d = this.drag;
            this.drag = null;
            if (!d) return;
            d.b = this.toSource(ev);
            const r = rect(d.a, d.b);
            if (r.width < 4 || r.height < 4) this.select(this.hit(d.b));
            else if (this.areas.length < MAX_AREAS) {
                this.areas.push(r);
                this.selected = this.areas.length - 1;
                this.changed();
            }
            this.draw();
        });
        new ResizeObserver(() => this.draw()).observe(canvas);
    }

    // Pointer position -> source pixels, clamped to the frame.
    toSource(ev) {
        const box = this.canvas.getBoundingClientRect();
        const fit = this.fit(box.width, box.height);
        const x = ((ev.clientX - box.left - fit.left) / fit.width) * this.source.width;
        const y = ((ev.clientY - box.top - fit.top) / fit.height) * this.source.height;
        return {
            x: Math.round(Math.min(Math.max(0, x), this.source.width)),
            y: Math.round(Math.min(Math.max(0, y), this.source.height)),
        };
    }

    // Where the picture sits in a w x h box (object-fit: contain).
    fit(w, h) {
        const scale = Math.min(w / this.source.width, h / this.source.height);
        const width = this.source.width * scale;
        const height = this.source.height * scale;
        return { left: (w - width) / 2, top: (h - height) / 2, width, height, scale };
    }

    hit(p) {
        for (let i = this.areas.length - 1; i >= 0; i--) {
            const a = this.areas[i];
            if (p.x >= a.x && p.x <= a.x + a.width && p.y >= a.y && p.y <= a.y + a.height) return i;
        }
        return -1;
    }

    select(i) {
        this.selected = i;
        this.draw();
    }

    removeSelected() {
        if (this.selected < 0) return;
        this.areas.splice(this.selected, 1);
        this.selected = -1;
        this.changed();
        this.draw();
    }

    // Replaces the areas (the camera's saved ones), without a change event.
    setAreas(areas) {
        this.areas = areas.slice(0, MAX_AREAS).map((a) => ({ x: a.x, y: a.y, width: a.width, height: a.height }));
        this.selected = -1;
        this.draw();
    }

    clear() {
        this.areas = [];
        this.selected = -1;
        this.changed();
        this.draw();
    }

    // The areas as roi_areas' value: what the cameras API's PATCH sends, and the snippet shows.
    value() {
        return this.areas.map((a) => ({ x: a.x, y: a.y, width: a.width, height: a.height }));
    }

    // The line for the camera's section of vmsd.conf.
    configLine() {
        return `roi_areas = ${JSON.stringify(this.value())}`;
    }

    changed() {
        this.dispatchEvent(new CustomEvent('change', { detail: { areas: this.areas.map((a) => ({ ...a })) } }));
    }

    draw() {
        const c = this.canvas;
        const dpr = window.devicePixelRatio || 1;
        const w = c.clientWidth;
        const h = c.clientHeight;
        c.width = Math.round(w * dpr);
        c.height = Math.round(h * dpr);
        const g = this.ctx;
        g.setTransform(dpr, 0, 0, dpr, 0, 0);
        g.clearRect(0, 0, w, h);
        const f = this.fit(w, h);
        const box = (a) => [f.left + a.x * f.scale, f.top + a.y * f.scale, a.width * f.scale, a.height * f.scale];
        this.areas.forEach((a, i) => {
            g.fillStyle = i === this.selected ? '#ffcc3340' : '#3b82c430';
            g.strokeStyle = i === this.selected ? '#ffcc33' : '#3b82c4';
            g.lineWidth = 2;
            g.fillRect(...box(a));
            g.strokeRect(...box(a));
            g.fillStyle = '#fff';
            g.font = '12px "DejaVu Sans", sans-serif';
            g.fillText(String(i + 1), box(a)[0] + 4, box(a)[1] + 14);
        });
        if (this.drag) {
            g.setLineDash([6, 4]);
            g.strokeStyle = '#fff';
            g.strokeRect(...box(rect(this.drag.a, this.drag.b)));
            g.setLineDash([]);
        }
    }
}

function rect(a, b) {
    return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), width: Math.abs(a.x - b.x), height: Math.abs(a.y - b.y) };
}
