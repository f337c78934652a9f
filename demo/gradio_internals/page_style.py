"""The page's style and texts written against Gradio's page: CSS that reaches into its components' markup (class
names, aria labels, data-testid attributes) and the i18n keys it shows raw. Re-check both on every Gradio upgrade;
the classes ``result``, ``wide``, ``photos``, ``pad``, ``notice``, ``problem`` and ``shortfall-row`` are the demo's."""
from __future__ import annotations

CSS = """
.result img { width: 100%; height: 100%; object-fit: contain; }
.problem, .notice { border-left: 4px solid #d97706; padding-left: 0.75em; }
.shortfall-row { align-items: center; }
.photos:has(video) { height: auto !important; min-height: 420px; }  /* the webcam view at a usable size */
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
  .result .image-frame, .result img { width: 100% !important; }  /* as wide as the screen, the single result too */
  /* the grids at a size where a face and the axis labels can be read, scrolled sideways */
  .result.wide .image-container { overflow-x: auto; display: block; }
  .result.wide .image-container > button { display: block; }  /* from its left edge: not centred, cut off */
  .result.wide .image-frame, .result.wide img { width: 760px !important; max-width: none !important; }
  #interp-image img { max-width: 256px; margin: 0 auto; }  /* one 64 px face: not a screen-wide blur */
  /* a gallery's or the pad's label above its toolbar, not under it */
  .photos > label[data-testid="block-label"] { position: static; }
  .photos { height: auto !important; }
  .photos .icon-button-wrapper.top-panel { position: static; justify-content: flex-end; }
}
"""

# Gradio 6's gallery shows these keys raw
SOURCE_LABELS = {"common.webcam": "Take photos with the webcam", "common.video": "Record a video"}
