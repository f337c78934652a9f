"""``DemoBlocks``: a ``gr.Blocks`` whose own checks of a request's values answer with clear messages, and whose
queue counts a cancelled request until its work has ended.

Gradio's messages for a bad request name absolute server paths and the working directory ("Cannot move
/srv/app/app.py to the gradio cache dir"), print its objects with memory addresses (a wrong number of values)
or repeat the value sent; and a file entry whose path is a URL makes Gradio download it, with no size limit.
Here a request's values are checked before Gradio processes them, and its errors become ``gr.Error`` messages
that name the input and say what to send.

Cancelling a request (or leaving the page) frees its place in Gradio's queue at once, but the thread computing
it runs on: Python cannot stop it. Six join-then-cancel requests had six decodes running at once. Here the
queue's place is kept until the thread is done, so the queue's concurrency limits hold for the work itself.
"""
from __future__ import annotations

import asyncio
import math
import re
from typing import Any

import gradio as gr
from gradio.exceptions import ComponentProcessingError, InvalidPathError
from gradio_client.utils import is_http_url_like

from .lean_sessions import make_lean
from .request_files import canonical, file_entries, file_problem, upload_folders
from .sessions import in_session
from .upload_space import shared_space

API_PAGE = "the API page (?view=api) lists what each endpoint takes"
MAX_CHOICE_CHARS = 200  # a model's name; a longer one is not echoed back
NOT_UPLOADED = ("a file in the request was not uploaded to this demo: upload the image (gradio_client's "
                "handle_file, or POST gradio_api/upload) and send the path it returns")
NO_URLS = ("a file in the request is a URL: this demo does not download files; upload the image itself "
           "(gradio_client's handle_file, or POST gradio_api/upload) and send the path it returns")


def endpoint(block_fn: Any) -> str:
    """How a message names the event: its API name, else its function's name."""
    return f"/{block_fn.api_name}" if isinstance(block_fn.api_name, str) else (block_fn.name or "this event")


def input_name(block: Any, index: int) -> str:
    """How a message names an input: its label, else its position."""
    label = getattr(block, "label", None)
    return f"'{label}'" if isinstance(label, str) and label else f"input {index + 1}"


def has_url_file(value: Any) -> bool:
    """True when a (nested) value holds a file entry whose path is a URL."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            path = item.get("path")
            if isinstance(path, str) and is_http_url_like(path):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


async def finish(work: asyncio.Future) -> None:
    """Wait until ``work`` is done, whatever cancels the waiting meanwhile."""
    while not work.done():
        try:
            await asyncio.shield(work)
        except asyncio.CancelledError:
            continue
        except Exception:  # the work's own error: nobody is waiting for it any more
            return


def value_problem(block: Any, value: Any) -> str | None:
    """What is wrong with a value sent for an input, or None: numbers must be finite (NaN passes every range
    check), whole numbers whole and not booleans; a single-choice dropdown takes one short value."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, got {value}"
    if isinstance(block, gr.Dropdown) and not block.multiselect and isinstance(value, (list, dict)):
        return "takes one of its choices, as a string, not a list"
    if isinstance(block, gr.Dropdown) and isinstance(value, str) and len(value) > MAX_CHOICE_CHARS:
        return f"takes one of its choices; the request sent a text of {len(value)} characters"
    if isinstance(block, (gr.Slider, gr.Number)) and isinstance(value, bool):
        return f"takes a number, not {str(value).lower()}"
    if whole_number(block) and isinstance(value, float) and not value.is_integer():
        return f"must be a whole number, got {value}"
    return None


def whole_number(block: Any) -> bool:
    """True for an input that takes whole numbers: a slider in whole steps, a number of precision 0."""
    if isinstance(block, gr.Slider):
        return float(block.step).is_integer() and float(block.minimum).is_integer()
    return isinstance(block, gr.Number) and block.precision == 0


class DemoBlocks(gr.Blocks):
    """``gr.Blocks`` that refuses URL file entries and files outside the upload folders
    (``demo.gradio_internals.request_files``), turns Gradio's input errors into clear messages and keeps a cancelled
    request's queue place until its work ends; its sessions are lean (``lean_sessions``)."""

    @property
    def state_holder(self) -> Any:
        """Gradio's holder of the sessions' states (its app sets it), making lean ones."""
        return self.__dict__["_state_holder"]

    @state_holder.setter
    def state_holder(self, holder: Any) -> None:
        self.__dict__["_state_holder"] = make_lean(holder)

    async def call_function(self, *args: Any, **kwargs: Any) -> Any:
        """Gradio's call of the event's function; cancelled, it waits for the function's thread to finish."""
        work = asyncio.ensure_future(super().call_function(*args, **kwargs))
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            await finish(work)
            raise

    def validate_inputs(self, block_fn: Any, inputs: list[Any]) -> None:
        """A value for every input (Gradio's own message for too few prints its objects; extra ones it ignores)."""
        if len(inputs) < len(block_fn.inputs):
            names = ", ".join(input_name(b, i) for i, b in enumerate(block_fn.inputs))
            raise gr.Error(f"{endpoint(block_fn)} takes {len(block_fn.inputs)} values ({names}); the request sent "
                           f"{len(inputs)}: {API_PAGE}")

    async def preprocess_data(self, block_fn: Any, inputs: list[Any], state: Any, explicit_call: bool = False) -> Any:
        """Gradio's preprocessing, with URL file entries refused first and its errors reworded."""
        if has_url_file(inputs):
            raise gr.Error(NO_URLS)
        allowed = upload_folders()
        for index, (block, value) in enumerate(zip(block_fn.inputs, inputs, strict=False)):
            problem = value_problem(block, value)
            if problem:
                raise gr.Error(f"{endpoint(block_fn)}: {input_name(block, index)} {problem}; {API_PAGE}")
            refused = file_problem(block, value, f"{endpoint(block_fn)}: {input_name(block, index)}", allowed)
            if refused:
                raise gr.Error(refused)
        inputs = [canonical(block, value) for block, value in zip(block_fn.inputs, inputs, strict=False)] + \
            inputs[len(block_fn.inputs):]
        shared_space().use(entry["path"] for entry in file_entries(inputs))  # kept past the unused uploads' sweep
        try:
            with in_session(state.blocks_config if state is not None else None):  # the pads' blobs of this session
                return await super().preprocess_data(block_fn, inputs, state, explicit_call)
        except gr.Error:
            raise
        except InvalidPathError:
            raise gr.Error(NOT_UPLOADED) from None
        except ComponentProcessingError as exc:  # its message repeats the value sent
            found = re.search(r"at index (\d+)", str(exc))
            index = int(found.group(1)) if found else -1
            what = input_name(block_fn.inputs[index], index) if 0 <= index < len(block_fn.inputs) else "an input"
            raise gr.Error(f"{endpoint(block_fn)}: the value sent for {what} could not be read; {API_PAGE}") from None
        except (ValueError, TypeError) as exc:  # e.g. pydantic's errors on a malformed file entry
            raise gr.Error(f"{endpoint(block_fn)}: a value in the request does not have the form its input takes "
                           f"({type(exc).__name__}); {API_PAGE}") from None
