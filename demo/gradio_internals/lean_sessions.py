"""Sessions without Gradio's copy of the page: Gradio's ``SessionState`` builds, for every new session, the config
of every block of the page (~170 kB here, in the event loop) and then keeps every input and output value of the
session in it (a full gallery's entries, a 30,000-character label), only to serve deep links
(``/gradio_api/deep_link``), which the demo does not offer. ``LeanSessionState`` keeps what the events need: the
session's ``gr.State`` values and the blocks an update changed. Such a block is a new component Gradio builds per
session (a gallery: ~25 kB) from the update's properties (never its value); sessions given the same properties share
one (``shared_block``: a model switch gives every session one of two labels). ``DemoBlocks`` makes Gradio's session
holder create these sessions (``make_lean``)."""
from __future__ import annotations

import datetime
from collections import OrderedDict
from copy import copy
from typing import Any

from gradio.state_holder import SessionState, StateHolder

MAX_SHARED_BLOCKS = 1024  # distinct (block, properties) kept for sharing, the least recently used dropped first
MAX_PROPERTIES_CHARS = 4096  # a block whose properties print longer is not shared
_shared: OrderedDict[tuple[int, type, str], Any] = OrderedDict()


def shared_block(key: int, block: Any) -> Any:
    """One component for every session whose update gave block ``key`` the same properties (``block`` itself the
    first time, or when its properties are not short)."""
    args = getattr(block, "constructor_args", None)
    if not isinstance(args, dict) or "value" in args:
        return block
    try:
        properties = repr(sorted(args.items()))
    except TypeError:
        return block
    if len(properties) > MAX_PROPERTIES_CHARS:
        return block
    signature = (key, type(block), properties)
    kept = _shared.pop(signature, block)
    _shared[signature] = kept
    if len(_shared) > MAX_SHARED_BLOCKS:
        _shared.popitem(last=False)
    return kept


class LeanSessionState(SessionState):
    """Gradio's session state less the per-session page config (deep links only)."""

    def __init__(self, blocks: Any) -> None:  # SessionState.__init__ less config_values' page copy
        self.blocks_config = copy(blocks.default_config)
        self.config_values: dict[int, Any] = {}  # read only by the deep-link route, which the demo refuses
        self.state_data: dict[int, Any] = {}
        self._state_ttl: dict[int, tuple[Any, datetime.datetime]] = {}
        self.is_closed = False
        self.STATE_TTL_WHEN_CLOSED = 3600  # Gradio's (1 s in its own end-to-end tests)

    def __setitem__(self, key: int, value: Any) -> None:
        """A session's value of a ``gr.State``, or a block an update changed (without its page config)."""
        from gradio.components import State

        block = self.blocks_config.blocks.get(key)
        if isinstance(block, State):
            self._state_ttl[key] = (block.time_to_live, datetime.datetime.now())
            self.state_data[key] = value
        else:
            self.blocks_config.blocks[key] = shared_block(key, value) if value is not block else value

    def _update_config(self, key: int) -> None:
        """Gradio keeps a changed block's page config for deep links: not here."""

    def _update_value_in_config(self, key: int, value: Any) -> None:
        """Gradio keeps every input and output value for deep links: not here."""


class LeanStateHolder(StateHolder):
    """Gradio's holder of the sessions' states, making ``LeanSessionState`` ones."""

    def __getitem__(self, session_id: str) -> SessionState:
        if session_id not in self.session_data:
            self.session_data[session_id] = LeanSessionState(self.blocks)
        self.update(session_id)
        self.time_last_used[session_id] = datetime.datetime.now()
        return self.session_data[session_id]


def make_lean(holder: StateHolder) -> StateHolder:
    """The app's session holder (the one object its routes and queue share), now making lean session states."""
    if type(holder) is StateHolder:
        holder.__class__ = LeanStateHolder
    return holder
