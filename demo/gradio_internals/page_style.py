"""The page's style and texts written against Gradio's page: CSS that reaches into its components' markup (class
names, aria labels, data-testid attributes) and the i18n keys it shows raw. Re-check both on every Gradio upgrade;
the classes ``result``, ``wide``, ``photos``, ``pad``, ``notice``, ``problem`` and ``shortfall-row`` are the demo's."""
from __future__ import annotations

CSS = """
.result img { width: 100%; height: 100%; object-fit: contain; }
/* a result shown whole in its box: its button row takes its own height above the picture, which gets the rest */
.result .image-container { display: flex; flex-direction: column; }
.result .image-container > button { flex: 1 1 0; min-height: 0; height: auto !important; }
.result .image-frame, .result img { height: 100% !important; }
.problem, .notice { border-left: 4px solid #d97706; padding-left: 0.75em; }
.shortfall-row { align-items: center; }
.photos:has(video) { height: auto !important; min-height: 420px; }  /* the webcam view at a usable size */
/* a gallery as tall as its photos (up to about three rows, then it scrolls), its label and toolbar above them */
.photos { height: auto !important; }
.photos .grid-wrap { height: auto !important; max-height: 420px; min-height: 120px; overflow-y: auto; }
.photos .grid-container { grid-template-columns: repeat(auto-fill, minmax(96px, 1fr)) !important; }
.photos > label[data-testid="block-label"] { position: static; }
.photos .icon-button-wrapper.top-panel { position: static; justify-content: flex-end; }
/* a photo a tab could not use, marked where it is shown (PAGE_SCRIPT finds it) */
.photos .thumbnail-item.refused { outline: 3px solid #dc2626; outline-offset: -3px; opacity: 0.75; }
.photos .thumbnail-item.refused::before { content: "refused"; position: absolute; top: 4px; left: 4px; z-index: 2;
  background: #dc2626; color: white; font-size: 12px; padding: 1px 6px; border-radius: 4px; }
/* the About tab's tables: no word broken (each column at least as wide as its longest word, a heading on one
   line), the table scrolled sideways when wider than the page */
#about-card table { display: block; overflow-x: auto; }
#about-card th, #about-card td { word-break: normal; overflow-wrap: normal; hyphens: none; }
#about-card th { white-space: nowrap; }
/* an empty gallery: as tall as its drop area and its upload, webcam and paste buttons (none clipped) */
.photos:has(> .source-selection) { height: auto !important; }
.photos:has(> .source-selection) .upload-container { min-height: 150px; }
.photos video { max-height: 480px; object-fit: contain; }
/* images only: no video recorder (a gallery's file_types would refuse a whole request for one odd file name,
   before the demo could name it) */
.photos button[aria-label="Record a video"], .photos button[aria-label="Record video from camera"] {
  display: none !important; }
.shortfall-row button { flex-grow: 0; min-width: max-content; }
/* a result's fullscreen and download buttons in a row above it, never over a photo */
.result .icon-button-wrapper.top-panel { position: static; justify-content: flex-end; margin: 0 0 2px auto; }
/* a narrow screen: the shortfall line above its button; results as tall as they are, no blank box around them */
@media (max-width: 560px) {
  .shortfall-row { flex-direction: column; align-items: stretch; }
  .result, .result .image-container, .result img { height: auto !important; max-height: none !important; }
  /* as wide as the screen, every column of a grid on it (the fullscreen button enlarges it) */
  .result .image-container > button { flex: none; }
  .result .image-frame, .result img { width: 100% !important; height: auto !important; }
  #interp-image img { max-width: 256px; margin: 0 auto; }  /* one 64 px face: not a screen-wide blur */
  /* the first screen: the upload area near the top, the long notes one tap away */
  .intro h1 { font-size: 1.3rem; margin-bottom: 0.25em; }
  .intro p, .examples-note p, .tab-intro p, #shortfall p { display: -webkit-box; -webkit-line-clamp: 2;
    -webkit-box-orient: vertical; overflow: hidden; }
  .intro:hover p, .examples-note:hover p, .tab-intro:hover p, #shortfall:hover p { -webkit-line-clamp: unset; }
}
"""

# Gradio 6's gallery shows these keys raw
SOURCE_LABELS = {"common.webcam": "Take photos with the webcam", "common.video": "Record a video"}

# Marks a gallery's thumbnail "refused" (CSS above) when its tab's notice names its file ("⚠ name: why") or when the
# browser cannot show it (a text file sent as a photo). File names are matched as the thumbnail's URL ends.
PAGE_SCRIPT = """<script>
(() => {
  let queued = false;
  const named = notice => new Set([...notice.innerText.matchAll(/(?:^|\\n)\\u26a0\\s*(.+?): /g)].map(m => m[1].trim()));
  const mark = () => {
    queued = false;
    document.querySelectorAll('[role=tabpanel]').forEach(panel => {
      if (!panel.checkVisibility || !panel.checkVisibility()) return;
      const notices = [...panel.querySelectorAll('.notice')].filter(n => n.checkVisibility());
      const names = new Set(notices.flatMap(n => [...named(n)]));
      panel.querySelectorAll('.photos .thumbnail-item').forEach(item => {
        const media = item.querySelector('img, video');
        const src = media ? decodeURIComponent((media.getAttribute('src') || '').split('?')[0].split('/').pop()) : '';
        const refused = names.has(src) || item.dataset.unreadable === src;
        if (item.classList.contains('refused') !== refused) item.classList.toggle('refused', refused);
      });
    });
  };
  const later = () => { if (!queued) { queued = true; setTimeout(mark, 150); } };
  document.addEventListener('error', e => {
    const item = e.target.closest && e.target.closest('.photos .thumbnail-item');
    if (item) { item.dataset.unreadable = decodeURIComponent((e.target.getAttribute('src') || '').split('?')[0]
      .split('/').pop()); later(); }
  }, true);
  new MutationObserver(later).observe(document.documentElement, {subtree: true, childList: true,
    characterData: true, attributes: true, attributeFilter: ['style', 'class']});
})();
</script>"""
