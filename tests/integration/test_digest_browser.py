"""The demo's digest in a real browser: headless Chromium loads it, on a desktop and at phone width,
and prints it. Screenshots and the PDF are kept under tests/artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from datetime import UTC, date, datetime, time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from alerts.digest import build_digests
from reputation.config import load_config
from reputation.store import Store

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
SECTIONS = ("summary", "emerging", "issues", "spreading", "incidents", "repeat-complainers", "collection-health")
PHONE_WIDTH = 375  # an iPhone SE/mini; Chromium's own window cannot be narrower than 500 px, an iframe can
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
PROBE = """<script>
addEventListener("load", function () {
  var root = document.documentElement;
  var report = {width: innerWidth, scrollWidth: root.scrollWidth, height: root.scrollHeight,
                phone: matchMedia("(max-width: 40rem)").matches};
  if (parent !== window) { parent.postMessage(report, "*"); }
  else { document.body.dataset.probe = JSON.stringify(report); }
});
</script>"""
FRAME = """<!doctype html><html><body style="margin:0">
<iframe src="{page}" style="border:0;width:{width}px;height:{height}px"></iframe>
<script>addEventListener("message", function (e) {{ document.body.dataset.probe = JSON.stringify(e.data); }});</script>
</body></html>"""


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium; installed with apt-get when the machine does not have it yet."""
    if not CHROMIUM.exists():
        install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
        if subprocess.run(install, capture_output=True, check=False).returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True, check=False)
            subprocess.run(install, capture_output=True, check=False)
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing and `apt-get install -y chromium` did not install it")
    return CHROMIUM


def browse(chromium: Path, page: Path, *args: str, width: int = 1280, height: int = 900) -> str:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        result = subprocess.run(
            [
                str(chromium),
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                *args,
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


class Elements(HTMLParser):
    """Counts what the browser's DOM holds: tags, ids, classes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: Counter[str] = Counter()
        self.ids: set[str] = set()
        self.classes: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        for name in (values.get("class") or "").split():
            self.classes[name] += 1


def probe(chromium: Path, page: Path, workdir: Path, width: int | None) -> dict[str, object]:
    """Layout facts measured inside the browser, on a copy of the page that may run a script."""
    copy = workdir / f"probe-{page.name}"
    html = page.read_text(encoding="utf-8")
    html = html.replace('<meta http-equiv="Content-Security-Policy"', '<meta name="csp-removed-for-probe"')
    copy.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    target = copy
    if width is not None:
        target = workdir / f"frame-{width}.html"
        target.write_text(FRAME.format(page=copy.name, width=width, height=900), encoding="utf-8")
    dom = browse(chromium, target, "--virtual-time-budget=5000", "--dump-dom")
    marker = 'data-probe="'
    raw = dom[dom.index(marker) + len(marker) :].split('"', 1)[0].replace("&quot;", '"')
    report: dict[str, object] = json.loads(raw)
    return report


def found(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match, pattern
    return match[1]


def test_the_demo_digest_in_chromium(chromium: Path, demo: Path, tmp_path: Path) -> None:
    page = demo / "digest.html"
    dom = browse(chromium, page, "--dump-dom")
    elements = Elements()
    elements.feed(dom)
    for section in SECTIONS:
        assert section in elements.ids, section
    # Volume by sentiment, the negative share line, and complaints by time to our first reply.
    assert elements.classes["chart"] == 3
    assert elements.classes["bucket"] == 6 and "responses" in elements.ids
    assert elements.classes["share-line"] >= 1 and elements.classes["neg"] >= 1
    store = Store.open(f"sqlite:///{demo / 'reputation.db'}")
    try:
        # The demo's day is the 24 hours up to when it ran: the page says which.
        html = page.read_text()
        day = date.fromisoformat(found(r"<title>Reputation digest Voltmart (\S+)</title>", html))
        starts = time.fromisoformat(found(r"The day from (\d\d:\d\d) to", html))
        config = load_config(demo / "reputation.yaml")
        config = config.with_digest(day_starts_at=starts)
        (digest,) = build_digests(store, config, day=day, brand=None)
    finally:
        store.close()
    assert elements.classes["issue"] == len(digest.issues) > 0
    assert elements.classes["spark"] == len(digest.issues)  # one trend line per issue
    assert elements.classes["cascade"] == len(digest.spreading) > 0
    assert elements.classes["incident"] == len(digest.incidents) > 0
    assert elements.classes["complainer"] == len(digest.repeat_complainers) > 0
    assert elements.classes["source"] == len(digest.health) == 1
    assert elements.classes["emerging-issue"] == len(digest.emerging)
    assert elements.tags["svg"] == 3 + len(digest.issues)
    assert f"<b>{digest.today.total}</b>mentions" in dom

    ARTIFACTS.mkdir(exist_ok=True)
    desktop = probe(chromium, page, tmp_path, width=None)
    assert desktop["scrollWidth"] == desktop["width"] and not desktop["phone"]
    browse(chromium, page, f"--screenshot={ARTIFACTS / 'digest-desktop.png'}", height=int(desktop["height"]))  # type: ignore[call-overload]

    phone = probe(chromium, page, tmp_path, width=PHONE_WIDTH)
    assert phone["width"] == PHONE_WIDTH and phone["phone"], phone
    assert phone["scrollWidth"] == PHONE_WIDTH, "the page scrolls sideways on a phone"
    frame = tmp_path / "phone.html"
    shutil.copyfile(page, tmp_path / page.name)
    frame.write_text(FRAME.format(page=page.name, width=PHONE_WIDTH, height=phone["height"]), encoding="utf-8")
    browse(
        chromium,
        frame,
        "--virtual-time-budget=2000",
        f"--screenshot={ARTIFACTS / 'digest-phone.png'}",
        width=PHONE_WIDTH,
        height=int(phone["height"]),  # type: ignore[call-overload]
    )

    pdf = ARTIFACTS / "digest.pdf"
    browse(chromium, page, "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    for shot in ("digest-desktop.png", "digest-phone.png"):
        assert (ARTIFACTS / shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000
    print(f"digest screenshots and PDF in {ARTIFACTS} ({datetime.now(UTC):%H:%M:%S} UTC)")
