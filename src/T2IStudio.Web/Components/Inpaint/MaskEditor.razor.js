// The mask editor's drawing surface: the image with the painted mask over it, brush and eraser with size and
// hardness, undo/redo, clear, invert, zoom (wheel, buttons) and pan (space-drag, middle button), pointer events
// so mouse, pen and touch all draw. The mask lives in the alpha of an image-sized canvas; exportMask() turns it
// into an opaque black-and-white PNG (white repaints) that .NET reads as a stream.
//
// Undo history keeps, per change, only the mask alpha of the rectangle the change touched (before, and after once
// undone), never a full RGBA snapshot: a stroke on a 4096² image costs its bounding box in bytes, not 64 MB. The
// whole history stays under UNDO_BUDGET_BYTES and MAX_UNDO entries; the oldest changes go first.

const MAX_UNDO = 50;
const UNDO_BUDGET_BYTES = 64 * 1024 * 1024;

export function create(canvas, dotNet, imageUrl, width, height, settings) {
    const editor = new MaskEditor(canvas, dotNet, width, height, settings);
    editor.load(imageUrl);
    return editor;
}

class MaskEditor {
    constructor(canvas, dotNet, width, height, settings) {
        this.canvas = canvas;
        this.ctx = canvas.getContext('2d');
        this.dotNet = dotNet;
        this.width = width;
        this.height = height;
        this.tool = 'brush';
        this.size = settings.size;
        this.hardness = settings.hardness;
        this.colour = settings.colour;
        this.opacity = settings.opacity;
        this.mask = document.createElement('canvas');
        this.mask.width = width;
        this.mask.height = height;
        this.maskCtx = this.mask.getContext('2d', { willReadFrequently: true });
        this.tint = document.createElement('canvas');
        this.tint.width = width;
        this.tint.height = height;
        this.tintCtx = this.tint.getContext('2d');
        this.undoStack = [];
        this.redoStack = [];
        this.historyBytes = 0;
        this.changes = 0;
        this.strokeBase = null;
        this.strokeBox = null;
        this.view = { scale: 1, x: 0, y: 0 };
        this.pointer = null;
        this.stroke = null;
        this.pan = null;
        this.spaceDown = false;
        this.painted = false;
        this.image = null;

        this.onPointerDown = e => this.pointerDown(e);
        this.onPointerMove = e => this.pointerMove(e);
        this.onPointerUp = e => this.pointerUp(e);
        this.onPointerLeave = () => { this.pointer = null; this.render(); };
        this.onWheel = e => this.wheel(e);
        this.onKeyDown = e => this.keyDown(e);
        this.onKeyUp = e => { if (e.code === 'Space') { this.spaceDown = false; this.updateCursor(); } };
        canvas.addEventListener('pointerdown', this.onPointerDown);
        canvas.addEventListener('pointermove', this.onPointerMove);
        canvas.addEventListener('pointerup', this.onPointerUp);
        canvas.addEventListener('pointercancel', this.onPointerUp);
        canvas.addEventListener('pointerleave', this.onPointerLeave);
        canvas.addEventListener('wheel', this.onWheel, { passive: false });
        canvas.addEventListener('keydown', this.onKeyDown);
        canvas.addEventListener('keyup', this.onKeyUp);
        canvas.addEventListener('contextmenu', e => e.preventDefault());
        this.resizeObserver = new ResizeObserver(() => { this.resize(); this.fit(); });
        this.resizeObserver.observe(canvas);
        this.resize();
        this.updateCursor();
    }

    load(url) {
        const image = new Image();
        image.onload = () => {
            this.image = image;
            this.fit();
            this.canvas.dataset.ready = 'true';
            this.notify();
        };
        image.onerror = () => this.dotNet.invokeMethodAsync('OnImageFailed');
        image.src = url;
    }

    // ----- view -----
    resize() {
        const ratio = window.devicePixelRatio || 1;
        const rect = this.canvas.getBoundingClientRect();
        this.canvas.width = Math.max(1, Math.round(rect.width * ratio));
        this.canvas.height = Math.max(1, Math.round(rect.height * ratio));
        this.render();
    }

    fit() {
        const ratio = window.devicePixelRatio || 1;
        const w = this.canvas.width / ratio, h = this.canvas.height / ratio;
        const scale = Math.min(w / this.width, h / this.height) * 0.96;
        this.view = { scale, x: (w - this.width * scale) / 2, y: (h - this.height * scale) / 2 };
        this.render();
    }

    zoom(factor, cx, cy) {
        const ratio = window.devicePixelRatio || 1;
        if (cx === undefined) {
            cx = this.canvas.width / ratio / 2;
            cy = this.canvas.height / ratio / 2;
        }
        const scale = Math.min(64, Math.max(0.05, this.view.scale * factor));
        const k = scale / this.view.scale;
        this.view = { scale, x: cx - (cx - this.view.x) * k, y: cy - (cy - this.view.y) * k };
        this.render();
    }

    toImage(e) {
        const rect = this.canvas.getBoundingClientRect();
        const sx = e.clientX - rect.left, sy = e.clientY - rect.top;
        return { sx, sy, x: (sx - this.view.x) / this.view.scale, y: (sy - this.view.y) / this.view.scale };
    }

    render() {
        const ctx = this.ctx;
        const ratio = window.devicePixelRatio || 1;
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
        if (!this.image) {
            return;
        }
        ctx.setTransform(ratio * this.view.scale, 0, 0, ratio * this.view.scale, ratio * this.view.x, ratio * this.view.y);
        ctx.imageSmoothingEnabled = this.view.scale < 2;
        ctx.drawImage(this.image, 0, 0, this.width, this.height);
        // The mask, tinted: the colour kept only where the mask has alpha.
        const t = this.tintCtx;
        t.globalCompositeOperation = 'source-over';
        t.clearRect(0, 0, this.width, this.height);
        t.fillStyle = this.colour;
        t.fillRect(0, 0, this.width, this.height);
        t.globalCompositeOperation = 'destination-in';
        t.drawImage(this.mask, 0, 0);
        ctx.globalAlpha = this.opacity;
        ctx.drawImage(this.tint, 0, 0);
        ctx.globalAlpha = 1;
        ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
        ctx.strokeStyle = 'rgba(128,128,128,.8)';
        ctx.lineWidth = 1;
        ctx.strokeRect(this.view.x - .5, this.view.y - .5, this.width * this.view.scale + 1, this.height * this.view.scale + 1);
        if (this.pointer && !this.pan && !this.spaceDown) {
            // The brush outline at its real size on screen.
            const r = Math.max(1, this.size / 2 * this.view.scale);
            ctx.beginPath();
            ctx.arc(this.pointer.sx, this.pointer.sy, r, 0, Math.PI * 2);
            ctx.strokeStyle = 'rgba(0,0,0,.85)';
            ctx.lineWidth = 2.5;
            ctx.stroke();
            ctx.strokeStyle = 'rgba(255,255,255,.95)';
            ctx.lineWidth = 1.2;
            ctx.stroke();
        }
    }

    updateCursor() {
        this.canvas.style.cursor = this.pan ? 'grabbing' : this.spaceDown ? 'grab' : 'none';
    }

    // ----- painting -----
    pointerDown(e) {
        this.canvas.focus({ preventScroll: true });
        if (e.button === 1 || (e.button === 0 && this.spaceDown) || e.button === 2) {
            this.pan = { sx: e.clientX, sy: e.clientY, x: this.view.x, y: this.view.y };
            this.canvas.setPointerCapture(e.pointerId);
            this.updateCursor();
            e.preventDefault();
            return;
        }
        if (e.button !== 0 || !this.image) {
            return;
        }
        e.preventDefault();
        this.canvas.setPointerCapture(e.pointerId);
        this.beginStroke();
        const p = this.toImage(e);
        this.stroke = { last: p };
        this.dab(p.x, p.y);
        this.pointer = p;
        this.render();
    }

    pointerMove(e) {
        const p = this.toImage(e);
        this.pointer = p;
        if (this.pan) {
            this.view.x = this.pan.x + (e.clientX - this.pan.sx);
            this.view.y = this.pan.y + (e.clientY - this.pan.sy);
        } else if (this.stroke) {
            const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
            for (const ce of events.length ? events : [e]) {
                const q = this.toImage(ce);
                this.segment(this.stroke.last, q);
                this.stroke.last = q;
            }
        }
        this.render();
    }

    pointerUp(e) {
        if (this.canvas.hasPointerCapture(e.pointerId)) {
            this.canvas.releasePointerCapture(e.pointerId);
        }
        if (this.pan) {
            this.pan = null;
            this.updateCursor();
            return;
        }
        if (this.stroke) {
            this.stroke = null;
            const paintedBefore = this.painted;
            if (this.tool === 'brush') {
                this.painted = true;
            }
            this.endStroke(paintedBefore);
            this.notify();
        }
    }

    segment(a, b) {
        const spacing = Math.max(0.5, this.size * 0.2);
        const dx = b.x - a.x, dy = b.y - a.y;
        const steps = Math.max(1, Math.ceil(Math.hypot(dx, dy) / spacing));
        for (let i = 1; i <= steps; i++) {
            this.dab(a.x + dx * i / steps, a.y + dy * i / steps);
        }
    }

    dab(x, y) {
        const ctx = this.maskCtx;
        const r = Math.max(0.5, this.size / 2);
        if (this.strokeBox) {
            const b = this.strokeBox;
            b.x1 = Math.min(b.x1, Math.floor(x - r - 1));
            b.y1 = Math.min(b.y1, Math.floor(y - r - 1));
            b.x2 = Math.max(b.x2, Math.ceil(x + r + 1));
            b.y2 = Math.max(b.y2, Math.ceil(y + r + 1));
        }
        const gradient = ctx.createRadialGradient(x, y, r * Math.min(0.999, this.hardness), x, y, r);
        gradient.addColorStop(0, 'rgba(255,255,255,1)');
        gradient.addColorStop(1, 'rgba(255,255,255,0)');
        ctx.globalCompositeOperation = this.tool === 'eraser' ? 'destination-out' : 'source-over';
        ctx.fillStyle = this.hardness >= 1 ? 'rgba(255,255,255,1)' : gradient;
        ctx.beginPath();
        ctx.arc(x, y, r, 0, Math.PI * 2);
        ctx.fill();
        ctx.globalCompositeOperation = 'source-over';
    }

    // ----- history -----
    /** The mask's alpha inside a rectangle, one byte a pixel. */
    readAlpha(x, y, w, h) {
        const px = this.maskCtx.getImageData(x, y, w, h).data;
        const alpha = new Uint8Array(w * h);
        for (let i = 0; i < alpha.length; i++) {
            alpha[i] = px[i * 4 + 3];
        }
        return alpha;
    }

    /** Puts alpha back into a rectangle of the mask (white, as painted). */
    writeAlpha(x, y, w, h, alpha) {
        const data = this.maskCtx.createImageData(w, h);
        const px = data.data;
        for (let i = 0; i < alpha.length; i++) {
            px[i * 4] = px[i * 4 + 1] = px[i * 4 + 2] = 255;
            px[i * 4 + 3] = alpha[i];
        }
        this.maskCtx.putImageData(data, x, y);
    }

    beginStroke() {
        // The whole mask's alpha before the stroke, held only while the stroke lasts: once it ends, only the
        // stroke's rectangle of it is kept.
        this.strokeBase = this.readAlpha(0, 0, this.width, this.height);
        this.strokeBox = { x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
    }

    endStroke(paintedBefore) {
        const b = this.strokeBox;
        const base = this.strokeBase;
        this.strokeBase = null;
        this.strokeBox = null;
        const x = Math.max(0, b.x1), y = Math.max(0, b.y1);
        const w = Math.min(this.width, b.x2) - x, h = Math.min(this.height, b.y2) - y;
        if (!base || w <= 0 || h <= 0) {
            return;
        }
        const before = new Uint8Array(w * h);
        for (let row = 0; row < h; row++) {
            before.set(base.subarray((y + row) * this.width + x, (y + row) * this.width + x + w), row * w);
        }
        this.record({ x, y, w, h, before, after: null, paintedBefore, paintedAfter: this.painted });
    }

    /** Records a change of the whole mask (clear, invert) before it happens. */
    recordWhole() {
        this.record({
            x: 0, y: 0, w: this.width, h: this.height,
            before: this.readAlpha(0, 0, this.width, this.height), after: null, paintedBefore: this.painted, paintedAfter: null,
        });
    }

    record(entry) {
        for (const old of this.redoStack) {
            this.historyBytes -= old.before.length + (old.after ? old.after.length : 0);
        }
        this.redoStack = [];
        this.undoStack.push(entry);
        this.changes++;
        this.historyBytes += entry.before.length;
        while (this.undoStack.length > 1 && (this.undoStack.length > MAX_UNDO || this.historyBytes > UNDO_BUDGET_BYTES)) {
            const dropped = this.undoStack.shift();
            this.historyBytes -= dropped.before.length + (dropped.after ? dropped.after.length : 0);
        }
    }

    undo() {
        if (this.stroke || this.undoStack.length === 0) {
            return;
        }
        const entry = this.undoStack.pop();
        if (!entry.after) {
            entry.after = this.readAlpha(entry.x, entry.y, entry.w, entry.h);
            this.historyBytes += entry.after.length;
        }
        entry.paintedAfter = this.painted;
        this.writeAlpha(entry.x, entry.y, entry.w, entry.h, entry.before);
        this.painted = entry.paintedBefore;
        this.redoStack.push(entry);
        this.render();
        this.notify();
    }

    redo() {
        if (this.stroke || this.redoStack.length === 0) {
            return;
        }
        const entry = this.redoStack.pop();
        this.writeAlpha(entry.x, entry.y, entry.w, entry.h, entry.after);
        this.painted = entry.paintedAfter;
        this.undoStack.push(entry);
        this.render();
        this.notify();
    }

    clear() {
        this.recordWhole();
        this.maskCtx.clearRect(0, 0, this.width, this.height);
        this.painted = false;
        this.render();
        this.notify();
    }

    invert() {
        this.recordWhole();
        const data = this.maskCtx.getImageData(0, 0, this.width, this.height);
        const px = data.data;
        for (let i = 0; i < px.length; i += 4) {
            px[i] = px[i + 1] = px[i + 2] = 255;
            px[i + 3] = 255 - px[i + 3];
        }
        this.maskCtx.putImageData(data, 0, 0);
        this.painted = true;
        this.render();
        this.notify();
    }

    // ----- settings from the toolbar -----
    setTool(tool) { this.tool = tool; this.notify(); }
    setSize(size) { this.size = Math.max(1, size); this.render(); }
    setHardness(hardness) { this.hardness = Math.min(1, Math.max(0, hardness)); }
    setOverlay(colour, opacity) { this.colour = colour; this.opacity = opacity; this.render(); }

    // ----- keyboard (while the canvas has focus) -----
    keyDown(e) {
        const key = e.key.toLowerCase();
        const mod = e.ctrlKey || e.metaKey;
        let handled = true;
        if (mod && key === 'z' && e.shiftKey) this.redo();
        else if (mod && key === 'z') this.undo();
        else if (mod && key === 'y') this.redo();
        else if (mod) handled = false;
        else if (key === 'b') this.setTool('brush');
        else if (key === 'e') this.setTool('eraser');
        else if (key === '[') this.changeSize(-1);
        else if (key === ']') this.changeSize(1);
        else if (key === 'f') this.fit();
        else if (key === '+' || key === '=') this.zoom(1.25);
        else if (key === '-') this.zoom(0.8);
        else if (e.code === 'Space') { this.spaceDown = true; this.updateCursor(); }
        else handled = false;
        if (handled) {
            e.preventDefault();
            e.stopPropagation();
        }
    }

    changeSize(direction) {
        const step = Math.max(1, Math.round(this.size * 0.15));
        this.size = Math.max(1, Math.min(512, this.size + direction * step));
        this.render();
        this.notify();
    }

    wheel(e) {
        e.preventDefault();
        const p = this.toImage(e);
        this.zoom(Math.exp(-e.deltaY * 0.0015), p.sx, p.sy);
    }

    notify() {
        // What the history holds, readable by the browser tests.
        this.canvas.dataset.undoBytes = String(this.historyBytes);
        this.canvas.dataset.changes = String(this.changes);
        this.dotNet.invokeMethodAsync('OnEditorState', {
            canUndo: this.undoStack.length > 0,
            canRedo: this.redoStack.length > 0,
            painted: this.painted,
            tool: this.tool,
            size: Math.round(this.size),
        });
    }

    /** The mask as an opaque PNG at the image's size: white repaints, black keeps, grey feathers. */
    exportMask() {
        const out = document.createElement('canvas');
        out.width = this.width;
        out.height = this.height;
        const ctx = out.getContext('2d');
        ctx.fillStyle = '#000';
        ctx.fillRect(0, 0, this.width, this.height);
        ctx.drawImage(this.mask, 0, 0);
        return new Promise((resolve, reject) => out.toBlob(b => b ? resolve(b) : reject(new Error('The mask could not be encoded.')), 'image/png'));
    }

    dispose() {
        this.resizeObserver.disconnect();
        const c = this.canvas;
        c.removeEventListener('pointerdown', this.onPointerDown);
        c.removeEventListener('pointermove', this.onPointerMove);
        c.removeEventListener('pointerup', this.onPointerUp);
        c.removeEventListener('pointercancel', this.onPointerUp);
        c.removeEventListener('pointerleave', this.onPointerLeave);
        c.removeEventListener('wheel', this.onWheel);
        c.removeEventListener('keydown', this.onKeyDown);
        c.removeEventListener('keyup', this.onKeyUp);
        this.undoStack = [];
        this.redoStack = [];
        this.historyBytes = 0;
    }
}
