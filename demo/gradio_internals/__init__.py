"""Everything that relies on Gradio's internals, kept in one place because it must be re-checked on every Gradio
upgrade: the ``gr.Blocks`` subclass that checks a request's values (``blocks``), the file confinement of event values
(``request_files``), the ASGI middlewares that bound request bodies (``request_limits``) and each client's use
(``fair_use``: page tokens, new sessions and queue places, upload budgets and the upload folder's cap; with
``page_tokens``, ``session_admission``, ``upload_space``), the proxies trusted to name a client's address
(``forwarding``), sessions without Gradio's copy of the page (``lean_sessions``), and the CSS and i18n keys
written against Gradio's page (``page_style``). Outside it, ``demo.inputs.decode_budget`` relies on Gradio carrying
a context variable (each request's decode budget) into the event's thread: re-check it too."""
