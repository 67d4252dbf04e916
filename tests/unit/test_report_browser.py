"""The HTML report as a browser shows it: headless Chromium takes a screenshot and dumps the DOM.

Chromium is Debian's package (`make browser` installs it); the test fails, never skips, without it.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from report_data import sample_report

from egov.publication.report import format_value, render

# Headless, as root, on a machine with no network: nothing may be looked up or downloaded.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars")
WINDOW = (1200, 2600)  # tall enough to hold the first two sections and the month chart
ACCENT = (0x1F, 0x4E, 0x79)  # the bars' fill


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("Chromium is not installed: run `make browser` (Debian's chromium package, as root)")
    return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def read_png(path: Path) -> np.ndarray:
    """The pixels of an 8-bit RGB or RGBA PNG as an array of height × width × channels."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    position, compressed, header = 8, b"", None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed += body
        position += 12 + length
    width, height, depth, colour_type, _, _, interlace = header
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, f"unexpected PNG layout {header}"
    channels = 3 if colour_type == 2 else 4
    stride = width * channels
    raw = np.frombuffer(zlib.decompress(compressed), dtype=np.uint8).reshape(height, stride + 1)
    pixels = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.uint8)
    for y in range(height):  # undo each line's filter: none, sub, up, average or Paeth
        kind, line = raw[y, 0], raw[y, 1:]
        if kind == 0:
            row = line.copy()
        elif kind == 1:
            row = (np.cumsum(line.reshape(width, channels), axis=0, dtype=np.uint64) % 256).astype(np.uint8).ravel()
        elif kind == 2:
            row = line + previous
        else:
            row, above = bytearray(line.tobytes()), previous.tobytes()
            for x in range(stride):
                left = row[x - channels] if x >= channels else 0
                up, up_left = above[x], above[x - channels] if x >= channels else 0
                if kind == 3:
                    predicted = (left + up) // 2
                else:
                    guess = left + up - up_left
                    predicted = min((abs(guess - left), 0, left), (abs(guess - up), 1, up),
                                    (abs(guess - up_left), 2, up_left))[2]
                row[x] = (row[x] + predicted) & 0xFF
            row = np.frombuffer(bytes(row), dtype=np.uint8)
        pixels[y] = row
        previous = row
    return pixels.reshape(height, width, channels)


class FigureValues(HTMLParser):
    """The text of every figure value (``a.figure-value``) in a DOM, by figure id."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._figure: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and "figure-value" in (attributes.get("class") or "").split():
            self._figure = attributes["data-figure-id"]
            self.values[self._figure] = ""

    def handle_data(self, data):
        if self._figure:
            self.values[self._figure] += data

    def handle_endtag(self, tag):
        if tag == "a":
            self._figure = None


@pytest.fixture(scope="module")
def data():
    return sample_report()


@pytest.fixture(scope="module")
def page(data, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "2019Q1_vi.html"
    path.write_bytes(render(data, "vi", "html"))
    return path


def test_chromium_screenshot_is_a_real_picture_of_the_report(page, tmp_path):
    screenshot = tmp_path / "2019Q1_vi.png"
    ran = chromium(f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={screenshot}", page.as_uri(),
                   profile=tmp_path / "profile")
    assert screenshot.exists(), ran.stderr[-2000:]
    pixels = read_png(screenshot)
    assert pixels.shape[:2] == (WINDOW[1], WINDOW[0])
    rgb = pixels[:, :, :3].astype(np.uint32)
    colours = np.unique(rgb[:, :, 0] << 16 | rgb[:, :, 1] << 8 | rgb[:, :, 2])
    assert len(colours) > 100, f"only {len(colours)} colours: a blank or broken page"
    white = np.all(pixels[:, :, :3] == 255, axis=2).mean()
    assert 0.5 < white < 0.98, f"{white:.0%} of the page is white"
    accent = np.all(pixels[:, :, :3] == ACCENT, axis=2).sum()
    assert accent > 5000, "the month chart's bars are not drawn"


def test_the_rendered_dom_shows_every_released_figure_in_vietnamese_format(data, page, tmp_path):
    ran = chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile")
    assert ran.returncode == 0, ran.stderr[-2000:]
    shown = FigureValues()
    shown.feed(ran.stdout)
    assert shown.values == {f.figure_id: format_value(f.value, f.unit, "vi") for f in data.figures}
    assert shown.values["onestop_dossiers_received"] == "38.751"
    assert shown.values["docmgmt_electronic_share"] == "93,7 %"
    assert "Về Bưu chính - Viễn thông, Công nghệ thông tin" in ran.stdout
    assert ran.stdout.count("<svg") == 2
