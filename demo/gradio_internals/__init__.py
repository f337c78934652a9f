"""Everything that relies on Gradio's internals, kept in one place because it must be re-checked on every Gradio
upgrade: the ``gr.Blocks`` subclass that checks a request's values (``blocks``), the file confinement of event values
(``request_files``), the ASGI middleware that bounds request bodies (``request_limits``), each request's decode
budget kept in a context variable that Gradio carries into the event's thread (``decode_budget``), and the CSS and
i18n keys written against Gradio's page (``page_style``)."""
