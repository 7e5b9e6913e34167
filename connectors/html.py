"""HTML as the text a reader sees, for every platform that sends markup (Hacker News, Mastodon, feeds, Apple).

Block elements (paragraphs, list items, headings, quotes) are set apart by a
blank line and `<br>` breaks a line; the whitespace of the markup is layout and
collapses to one space, except inside `<pre>`, which is kept as written.
Entities are decoded. Scripts, styles and elements of a class the platform uses
for what readers do not see (Mastodon's "RE: <link>" line for old clients) are
dropped. A link shows its text, or its address when the text is that address
cut short with "..." (as Hacker News shows long links). The text is data, never
markup: nothing here is rendered or evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

BLOCK_TAGS = frozenset(
    "address article aside blockquote dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 header hr li "
    "main nav ol p pre section table td th tr ul".split()
)
HIDDEN_TAGS = frozenset({"script", "style", "template", "noscript"})
VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})
# Inside <pre>, line breaks and spaces are content: they travel as these private-use
# characters through the collapsing of layout whitespace, then come back.
_PRE_NEWLINE, _PRE_SPACE = "\ue000", "\ue001"


def html_to_text(markup: str, *, hidden_classes: Iterable[str] = ()) -> str:
    """The readable text of an HTML fragment; elements with one of `hidden_classes` are left out."""
    if "<" not in markup and "&" not in markup:
        return " ".join(markup.split())
    reader = _Reader(frozenset(hidden_classes))
    reader.feed(markup)
    reader.close()
    return reader.text()


class _Reader(HTMLParser):
    def __init__(self, hidden_classes: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden_classes = hidden_classes
        self.parts: list[str] = []
        self.hidden = 0  # depth inside an element readers do not see
        self.pre: list[str] | None = None  # the text of the <pre> being read
        self.link: tuple[str, list[str]] | None = None  # href and text of the <a> being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.hidden:
            self.hidden += tag not in VOID_TAGS
            return
        classes = set((dict(attrs).get("class") or "").split())
        if tag in HIDDEN_TAGS or classes & self.hidden_classes:
            self.hidden += tag not in VOID_TAGS
        elif tag == "br":
            self._write(_PRE_NEWLINE if self.pre is not None else "\n")
        elif tag == "a":
            self._end_link()
            self.link = (dict(attrs).get("href") or "", [])
        elif tag in BLOCK_TAGS:
            self._end_link()
            self.parts.append("\n\n")
            if tag == "pre" and self.pre is None:
                self.pre = []

    def handle_endtag(self, tag: str) -> None:
        if self.hidden:
            self.hidden -= tag not in VOID_TAGS
            return
        if tag == "a":
            self._end_link()
        elif tag in BLOCK_TAGS:
            self._end_link()
            if tag == "pre":
                self._end_pre()
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        if self.pre is not None:
            data = data.replace("\n", _PRE_NEWLINE).replace(" ", _PRE_SPACE)
        else:
            data = re.sub(r"\s+", " ", data)  # a line break in markup is a space; only elements break lines
        self._write(data)

    def _write(self, text: str) -> None:
        if self.link is not None:
            self.link[1].append(text)
        elif self.pre is not None:
            self.pre.append(text)
        else:
            self.parts.append(text)

    def _end_link(self) -> None:
        if self.link is None:
            return
        href, parts = self.link
        self.link = None
        shown = "".join(parts)
        cut = " ".join(shown.split()).removesuffix("...").removesuffix("…")
        # A link shown as its own address cut short ("https://x.example/lo...") is the address.
        self._write(href if href and cut != shown.strip() and cut and href.startswith(cut) else shown)

    def _end_pre(self) -> None:
        if self.pre is not None:
            text = "".join(self.pre).strip(_PRE_NEWLINE)
            self.pre = None
            self.parts.append(text)

    def text(self) -> str:
        self._end_link()
        self._end_pre()
        lines: list[str] = []
        for line in "".join(self.parts).split("\n"):
            line = " ".join(line.split())
            if line or (lines and lines[-1]):
                lines.append(line)
        text = "\n".join(lines).strip()
        return text.replace(_PRE_NEWLINE, "\n").replace(_PRE_SPACE, " ")
