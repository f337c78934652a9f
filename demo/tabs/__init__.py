"""The demo's tabs, in the order the page shows them: each a ``demo.tabs.base.Tab`` that lays out its components
and wires its own events. A new tab is one new module here, with its class added to ``TABS``."""
from __future__ import annotations

from .about import AboutTab
from .album import AlbumTab
from .base import Tab
from .generate import GenerateTab
from .interpolate import InterpolateTab
from .pool import PoolTab
from .swap import SwapTab

TABS: tuple[type[Tab], ...] = (PoolTab, InterpolateTab, SwapTab, GenerateTab, AlbumTab, AboutTab)
