"""The Gradio demo of mlvae: builds the interface around ``mlvae``'s latent operations (no model math here).

``python app.py`` launches it (``demo.cli``); ``demo.app.build_app`` builds the page around the tabs.

- ``tabs/``: one module per tab (``pool``, ``interpolate``, ``swap``, ``generate``, ``about``), each a ``Tab`` that
  lays out its components and wires its own events (``tabs/base.py``); a new tab is a new module in ``TABS``.
- ``computing/``: the endpoints' functions, the computations behind them, live pooling, the model's description.
- ``inputs/``: uploads, drawings and gallery values -> model inputs (file confinement, preparation, digit framing,
  cache, each request's decode budget).
- ``galleries/``: the example sets, examples giving way to the user's photos, per-kind memory.
- ``results/``: contact sheets, their axis labels, PNG files Gradio serves.
- ``gradio_internals/``: everything relying on Gradio's internals (re-check on every upgrade).
- ``kinds.py`` (digits / faces: all that differs), ``models.py`` (the model registry), ``make_examples.py``.
"""
