"""The drawing pad: a plain HTML canvas (``gr.HTML`` with its own script) whose value is its drawing as one PNG data
URL, set when a stroke ends.

Gradio's Sketchpad exported its layers as images (three sets of uploads, about 1 s) before each event was sent, and
its reset uploaded some twenty more; this pad sends nothing until its event, and then only its value, a string the
server bounds and decodes like an upload (``demo.inputs.pad_drawings``). Brush size, eraser, undo and clear; pointer
events, so a mouse, a pen and a finger draw alike. An event that returns ``""`` for the pad empties it.
"""
from __future__ import annotations

import gradio as gr

from ..gradio_internals.request_limits import MAX_STRING_CHARS
from ..inputs.pad_drawings import CANVAS

WIDTH, HEIGHT = CANVAS
DEFAULT_BRUSH, MIN_BRUSH, MAX_BRUSH = 12, 4, 40
MAX_SENT_CHARS = MAX_STRING_CHARS - 64  # a request's strings are bounded (``request_limits``): a drawing fits

TEMPLATE = f"""<div class="pad-box">
<span class="pad-label">Drawing pad</span>
<canvas class="pad-canvas" width="{WIDTH}" height="{HEIGHT}" aria-label="Drawing pad: draw a digit here"></canvas>
<div class="pad-tools">
<label>Brush <input class="pad-size" type="range" min="{MIN_BRUSH}" max="{MAX_BRUSH}" value="{DEFAULT_BRUSH}"
 aria-label="Brush size"></label>
<button type="button" class="pad-eraser" aria-pressed="false">Eraser</button>
<button type="button" class="pad-undo">Undo</button>
<button type="button" class="pad-clear">Clear</button>
</div>
</div>"""

CSS = f"""
.pad-box {{ display: flex; flex-direction: column; align-items: flex-start; gap: 6px; }}
.pad-label {{ font-size: var(--block-label-text-size); color: var(--block-label-text-color); }}
.pad-canvas {{ width: {WIDTH}px; max-width: 100%; aspect-ratio: 1; touch-action: none; cursor: crosshair;
  border: 1px solid var(--border-color-primary); border-radius: 4px; background: #fff; }}
.pad-tools {{ display: flex; flex-wrap: wrap; align-items: center; gap: 8px; }}
.pad-tools button {{ padding: 2px 10px; border: 1px solid var(--border-color-primary); border-radius: 4px;
  background: var(--button-secondary-background-fill); color: var(--button-secondary-text-color); }}
.pad-tools button[aria-pressed="true"] {{ background: var(--button-primary-background-fill);
  color: var(--button-primary-text-color); }}
"""

# ``props.value`` is the drawing (a PNG data URL, at most MAX_SENT_CHARS: a larger export is sent at half the size,
# which the digit framing does not mind), or "" when the pad is blank.
SCRIPT = """
const canvas = element.querySelector('.pad-canvas'), ctx = canvas.getContext('2d');
const size = element.querySelector('.pad-size'), eraser = element.querySelector('.pad-eraser');
let strokes = [], current = null, erasing = false;
function paper() { ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, canvas.width, canvas.height); }
function segment(s, a, b) {
  ctx.strokeStyle = s.erase ? '#fff' : '#000'; ctx.lineWidth = s.width; ctx.lineCap = 'round';
  ctx.lineJoin = 'round'; ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
}
function whole(s) { s.points.forEach((p, i) => segment(s, s.points[Math.max(i - 1, 0)], p)); }
function redraw() { paper(); strokes.forEach(whole); }
function at(e) {
  const r = canvas.getBoundingClientRect();
  return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
}
function exported() {
  let url = canvas.toDataURL('image/png'), side = canvas.width;
  while (url.length > MAX_SENT_CHARS && side > 28) {
    side = Math.round(side / 2);
    const small = document.createElement('canvas'); small.width = small.height = side;
    const c = small.getContext('2d'); c.fillStyle = '#fff'; c.fillRect(0, 0, side, side);
    c.drawImage(canvas, 0, 0, side, side); url = small.toDataURL('image/png');
  }
  return url;
}
function publish() { props.value = strokes.length ? exported() : ''; }
canvas.addEventListener('pointerdown', e => {
  if (e.pointerType === 'mouse' && e.button !== 0) return;
  e.preventDefault(); canvas.setPointerCapture(e.pointerId);
  const p = at(e);
  current = {erase: erasing, width: Number(size.value), points: [p]}; strokes.push(current); segment(current, p, p);
});
canvas.addEventListener('pointermove', e => {
  if (!current) return;
  e.preventDefault();
  for (const ev of (e.getCoalescedEvents ? e.getCoalescedEvents() : []).concat([e])) {
    const p = at(ev), last = current.points[current.points.length - 1];
    if (p[0] === last[0] && p[1] === last[1]) continue;
    current.points.push(p); segment(current, last, p);
  }
});
function end() { if (current) { current = null; publish(); } }
canvas.addEventListener('pointerup', end); canvas.addEventListener('pointercancel', end);
canvas.addEventListener('lostpointercapture', end);
eraser.addEventListener('click', () => { erasing = !erasing; eraser.setAttribute('aria-pressed', String(erasing)); });
element.querySelector('.pad-undo').addEventListener('click', () => { strokes.pop(); redraw(); publish(); });
element.querySelector('.pad-clear').addEventListener('click', () => { strokes = []; redraw(); publish(); });
watch('value', () => { if (!props.value) { strokes = []; current = null; redraw(); } });
paper();
""".replace("MAX_SENT_CHARS", str(MAX_SENT_CHARS))


def drawing_pad(elem_id: str) -> gr.HTML:
    """A blank pad whose value is ``""`` or its drawing as a PNG data URL."""
    return gr.HTML(value="", html_template=TEMPLATE, css_template=CSS, js_on_load=SCRIPT, elem_id=elem_id,
                   elem_classes="pad", padding=False, apply_default_css=False)
