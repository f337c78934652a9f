"""Album mode: drop an unlabelled album (several people, or several digits) and the model groups it by who each
photo shows, from its content posteriors alone; ask for fewer or more groups, correct it with clicks (move a photo,
merge two groups, split one), then send a group to the Pool tab or the grouping to the Swap tab."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from ..computing.album import MAX_ALBUM, AlbumEndpoints
from ..computing.guard import guarded
from ..kinds import FACES, Kind
from .base import MODEL_QUEUE, PRIVATE, Page, Tab, Update
from .components import WIDE_RESULT, notice_box, photo_input


def groups_word(kind: Kind) -> str:
    """Several groups of a kind, in words: people, digits."""
    return "people" if kind.group == "person" else f"{kind.group}s"


def album_label(kind: Kind) -> str:
    """The album gallery's label for a kind of model."""
    return f"An album: {kind.words.item}s of several {groups_word(kind)}, mixed, unlabelled (up to {MAX_ALBUM})"


def album_intro(kind: Kind) -> str:
    """What the tab does, in the words of a kind of model."""
    return (f"Drop a mixed album and the model says which {kind.words.item}s show the same {kind.group}: it asks "
            f"whether a set of {kind.words.item}s is better explained by **one shared content** than by one each "
            "(the product of Normals' evidence, paper eq. 7) and merges while that pays, so it finds the number of "
            f"groups itself. Each row: the group's pooled identity, then its {kind.words.item}s as the model sees "
            "them with how sure it is of each (red: under 50%). Correct it below; corrections redraw the identities.")


class AlbumTab(Tab):
    """The Album tab (API ``/album``)."""

    key, title = "album", "Album"

    def layout(self, page: Page) -> None:
        """The gallery, the grouping's controls, the sheet, the corrections and the buttons to other tabs."""
        kind = page.words_kind
        self.intro = gr.Markdown(album_intro(kind), elem_classes="tab-intro")
        self.photos = [photo_input("album", album_label, "album", kind)]
        with gr.Row():
            self.button = gr.Button("Group the album", variant="primary", elem_id="album-group")
            self.fewer = gr.Button("Fewer groups", elem_id="album-fewer")
            self.more = gr.Button("More groups", elem_id="album-more")
        self.notice = notice_box("album")
        self.summary = gr.Markdown(label="Summary", elem_id="album-summary")
        self.sheet = gr.Image(label="Groups", **WIDE_RESULT, height=640, elem_id="album-sheet")
        self.groups = gr.JSON(label="Groups found", visible=False, elem_id="album-groups")
        self.labels = gr.Textbox(label="Group of each photo, in album order (edit and press Enter to regroup by hand)",
                                 max_lines=1, elem_id="album-labels")
        gr.Markdown("**Correct the grouping**: photo numbers are the #numbers under the photos; a group number one "
                    "past the last makes a new group.")
        with gr.Row():
            self.photo = gr.Number(label="Photo #", precision=0, minimum=1, value=1, elem_id="album-photo")
            self.target = gr.Number(label="to group", precision=0, minimum=1, value=1, elem_id="album-target")
            self.move = gr.Button("Move the photo", elem_id="album-move")
        with gr.Row():
            self.first = gr.Number(label="Group", precision=0, minimum=1, value=1, elem_id="album-first")
            self.second = gr.Number(label="and group", precision=0, minimum=1, value=2, elem_id="album-second")
            self.merge = gr.Button("Merge the two", elem_id="album-merge")
            self.split = gr.Button("Split the first in two", elem_id="album-split")
        with gr.Row():
            self.chosen = gr.Number(label="Group", precision=0, minimum=1, value=1, elem_id="album-chosen")
            self.to_pool = gr.Button("Send this group to Pool", elem_id="album-to-pool")
            self.to_swap = gr.Button("Send the grouping to Swap (2 photos of each group, up to 8)",
                                     elem_id="album-to-swap")

    def wire(self, page: Page) -> None:
        """``/album``; grouping, corrections and the sends to Pool and Swap."""
        album = AlbumEndpoints(page.endpoints)
        gallery = self.photos[0].gallery
        outputs = [self.sheet, self.groups, self.labels, self.summary]
        page.endpoint(album.album, [page.model, gallery, gr.Number(value=0, visible=False)], outputs, "album")

        def missing(model_name: str | None, photos: Any, *rest: Any) -> str | None:
            return page.need_photos(model_name, photos)

        def update(fn: Callable, inputs: list[Any]) -> Update:
            return Update(fn, [page.model, gallery, *inputs], outputs, self.notice, missing)

        update(album.album, []).listen(self.button.click)
        update(lambda m, p, labels: album.step(m, p, labels, -1), [self.labels]).listen(self.fewer.click)
        update(lambda m, p, labels: album.step(m, p, labels, +1), [self.labels]).listen(self.more.click)
        update(lambda m, p, labels, a, b: album.correct(m, p, labels, "move", a, b),
               [self.labels, self.photo, self.target]).listen(self.move.click)
        update(lambda m, p, labels, a, b: album.correct(m, p, labels, "merge", a, b),
               [self.labels, self.first, self.second]).listen(self.merge.click)
        update(lambda m, p, labels, a: album.correct(m, p, labels, "split", a),
               [self.labels, self.first]).listen(self.split.click)
        self.update = update(album.show, [self.labels])
        self.update.listen(self.labels.submit)
        self.wire_photos(page, self.update)
        self.wire_sends(page, album)

    def wire_sends(self, page: Page, album: AlbumEndpoints) -> None:
        """A group's photos into the Pool tab's gallery; the grouping into the Swap tab's photos and labels."""
        tabs = {tab.key: tab for tab in page.all_tabs}
        gallery = self.photos[0].gallery
        if "pool" in tabs:
            pool = tabs["pool"].photos[0].gallery

            def send_group(model_name: str, photos: Any, labels: str | None, group: Any) -> tuple:
                return album.group_paths(model_name, photos, labels, group), gr.Tabs(selected="pool")

            self.to_pool.click(guarded(send_group), [page.model, gallery, self.labels, self.chosen],
                               [pool, page.tabs], **PRIVATE, **MODEL_QUEUE)  # one queue for all work (cheap here)
        if "swap" in tabs:
            swap = tabs["swap"]

            def send_grouping(photos: Any, labels: str | None) -> tuple:
                paths, names = album.swap_inputs(photos, labels)
                return paths, names, True, gr.Tabs(selected="swap")

            self.to_swap.click(guarded(send_grouping), [gallery, self.labels],
                               [swap.photos[0].gallery, swap.labels, swap.pooled, page.tabs], **PRIVATE, **MODEL_QUEUE)

    def refresh(self, trigger: Callable) -> None:
        """Show the (remembered or new) album's grouping again."""
        self.update.follow(trigger)

    def remembered(self) -> dict[str, Any]:
        """The album and its grouping (with the user's corrections)."""
        return {**super().remembered(), "album_labels": self.labels}

    def for_kind(self, kind: Kind | None) -> dict[Any, Any]:
        """The gallery's label, the pad, the introduction."""
        return {**super().for_kind(kind), self.intro: album_intro(kind or FACES)}
