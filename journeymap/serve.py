"""``journeymap serve``: a live preview of journey files in the browser.

Someone editing a journey wants to see the map change as they save, and to see
what is wrong the moment it breaks, without running ``render`` by hand. A
watcher thread looks at the files five times a second, loads each changed one
and draws its flow map, canvas and report once, off the request path; the
page asks for the state four times a second and swaps in what is new.

What a browser can reach is fixed in advance: a handful of routes, every
answer made in memory from the loaded journeys, never a file named by the
URL. The server listens on 127.0.0.1 only, answers only requests whose Host is
that address (or ``localhost``) with its port, so that a web page cannot reach
it through DNS rebinding, and only GET. Pages forbid every script but the
preview's own and the report's, by hash.

Graphviz is not thread-safe and captures the process's stderr while it lays
out, so all loading and drawing happens in the one watcher thread.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import re
import socketserver
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

from .errors import JourneyError

if TYPE_CHECKING:
    from .analysis import Analysis
    from .model import Journey

__all__ = ["HOST", "Preview", "Response", "respond", "serve"]

HOST = "127.0.0.1"
#: Seconds between two looks at the files.
POLL = 0.2
#: Seconds between two walks of a folder for new files, at least (a slow walk waits longer).
RESCAN = 1.0
#: Files up to this size are read and hashed on every look, so that a save that
#: keeps the size and the modification time (coarse clocks, some editors) is seen.
HASH_LIMIT = 1 << 20
#: A journey of a folder is drawn while its page has asked for it within this many
#: seconds; the others are only checked, so a folder of fifty journeys costs
#: nothing to draw until one is opened.
WANTED = 30.0
#: The views of a journey, drawn in this order (the flow map first: it is what the
#: page shows first).
VIEWS = ("flow", "canvas", "report")

Log = Callable[[str], None]


# The state of the files ----------------------------------------------------------


@dataclass(frozen=True)
class Drawing:
    """One view of one version of a journey, ready to send."""

    version: int
    body: bytes
    csp: str


@dataclass(frozen=True)
class FileState:
    """What the preview knows of one journey file, replaced whole on every change.

    ``drawn`` keeps the last good drawing of each view, so that a page opened
    while the file is broken still shows the last map that loaded (dimmed).
    """

    key: str
    name: str
    version: int = 0
    title: str = ""
    problems: tuple[str, ...] = ()
    errors: Mapping[str, str] = field(default_factory=dict)
    pending: frozenset[str] = frozenset(VIEWS)
    drawn: Mapping[str, Drawing] = field(default_factory=dict)
    journey: Journey | None = None

    def to_dict(self) -> dict[str, Any]:
        """The state as the page reads it (everything in it is shown as text)."""
        return {
            "file": self.name,
            "version": self.version,
            "title": self.title,
            "problems": list(self.problems),
            "views": {
                v: {
                    "version": self.drawn[v].version if v in self.drawn else None,
                    "error": self.errors.get(v),
                    "pending": v in self.pending and not self.problems,
                }
                for v in VIEWS
            },
        }


@dataclass
class _Watch:
    """What the watcher saw of a file last time (only the watcher thread uses it)."""

    path: Path
    name: str
    signature: tuple[int, ...] | None = None
    digest: str | None = None


def _signature(path: Path) -> tuple[int, ...] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev, st.st_mode)


def _read(path: Path, name: str) -> tuple[str | None, tuple[str, ...], str]:
    """The file's text, or None and the problems that stop it being read; and a digest.

    The digest covers the problems too, so that a file that stays unreadable is
    not loaded again on every look.
    """
    from .loader import _read as read_journey

    try:
        text = read_journey(path, name)
    except JourneyError as exc:
        problems = _problems(exc)
        digest = hashlib.sha256("\n".join(problems).encode("utf-8", "replace")).hexdigest()
        return None, problems, "!" + digest
    return text, (), hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _problems(exc: JourneyError) -> tuple[str, ...]:
    """Each problem as ``FILE:LINE:COLUMN: message``; an error without a place as it is
    (the library names the file in those: ``FILE: Graphviz could not ...``)."""
    if exc.problems:
        return tuple(str(p) for p in exc.problems)
    return tuple(str(exc).splitlines()) or (type(exc).__name__,)


def _script_hashes(html: str) -> list[str]:
    """CSP sources for the inline scripts of a page we made: the report's own and
    the scroll keeper, so that those two run and nothing else.

    Every value from a journey is escaped in the report, so a ``<script>`` in it
    is always ours.
    """
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode() + "'"
        for s in re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    ]


# Added to the report the preview shows (not to report files): the report is
# reloaded on every save, and without this each reload would jump to its top. It
# tells the page how far it is scrolled, and scrolls the next version as far.
_SCROLL_KEEPER = """<script>
(function () {
  "use strict";
  var y = parseInt(new URLSearchParams(location.search).get("y"), 10) || 0;
  if (y > 0) {
    window.scrollTo(0, y);
    window.addEventListener("load", function () { window.scrollTo(0, y); });
  }
  var timer = null;
  window.addEventListener("scroll", function () {
    if (timer) { return; }
    timer = setTimeout(function () {
      timer = null;
      window.parent.postMessage({ journeymapScroll: window.scrollY }, "*");
    }, 100);
  });
})();
</script>
"""


def _keeping_scroll(html: str) -> str:
    at = html.rfind("</body>")
    return html + _SCROLL_KEEPER if at < 0 else html[:at] + _SCROLL_KEEPER + html[at:]


def draw(journey: Journey, view: str, analysis: Analysis | None = None) -> Drawing:
    """One view of a journey (version 0: the caller sets it); JourneyError if it cannot be drawn."""
    from .rendering import render

    if view == "report":
        from .report import report_html

        html = _keeping_scroll(report_html([journey]))
        scripts = " ".join(_script_hashes(html)) or "'none'"
        csp = (
            f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline';"
            " img-src data:; font-src data:; base-uri 'none'; form-action 'none';"
            " frame-ancestors 'self'"
        )
        return Drawing(0, html.encode("utf-8"), csp)
    svg = render(journey, "svg", view=view, analysis=analysis)
    return Drawing(0, svg, _CSP_SVG)


class Preview:
    """The journey files under watch and what was made of them.

    :meth:`tick` is one look at the files (the watcher thread calls it five
    times a second); the request handlers only read, through :meth:`state` and
    :meth:`files`, and say which journeys a page is showing (:meth:`want`).
    """

    def __init__(
        self,
        target: str | Path,
        *,
        log: Log | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = Path(target)
        self.folder = self.target.is_dir()
        self._log = log or (lambda _: None)
        self._clock = clock
        self._lock = threading.Lock()
        self._states: dict[str, FileState] = {}
        self._watches: dict[str, _Watch] = {}
        self._wanted: dict[str, float] = {}
        self._next_scan = 0.0
        if self.folder:
            self._rescan()  # the first page asked for already lists the files
            self._next_scan = self._clock() + RESCAN
        else:
            key = self.target.name
            self._watches[key] = _Watch(self.target, str(target))
            self._states[key] = FileState(key, str(target))

    # What request handlers call (any thread) ------------------------------------

    def keys(self) -> list[str]:
        with self._lock:
            return sorted(self._states)

    def state(self, key: str) -> FileState | None:
        with self._lock:
            return self._states.get(key)

    def want(self, key: str) -> None:
        with self._lock:
            if key in self._states:
                self._wanted[key] = self._clock()

    def files(self) -> list[dict[str, Any]]:
        with self._lock:
            states = [self._states[k] for k in sorted(self._states)]
        return [
            {
                "key": s.key,
                "file": s.name,
                "title": s.title,
                "version": s.version,
                "problems": len(s.problems),
            }
            for s in states
        ]

    # What the watcher thread does ----------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Look at the files until ``stop`` is set; nothing in a file can end this loop."""
        while not stop.is_set():
            started = self._clock()
            try:
                self.tick(stop)
            except Exception as exc:  # a bug must not end the preview; say it and go on
                self._log(f"error: the preview failed: {type(exc).__name__}: {exc}")
            stop.wait(max(0.0, POLL - (self._clock() - started)))

    def tick(self, stop: threading.Event | None = None) -> None:
        """One look: find new files, load the changed ones, draw what pages want."""
        if self.folder and self._clock() >= self._next_scan:
            started = self._clock()
            self._rescan()
            # a folder that takes long to walk (a home folder) is walked less often
            self._next_scan = self._clock() + max(RESCAN, 20 * (self._clock() - started))
        for key in sorted(self._watches):
            self._look(key)
        for key in sorted(self._watches):
            if stop is not None and stop.is_set():
                return
            current = self.state(key)
            if current and current.pending and not current.problems and self._is_wanted(key):
                self._draw(key, current)

    def _is_wanted(self, key: str) -> bool:
        if not self.folder:
            return True
        with self._lock:
            seen = self._wanted.get(key)
        return seen is not None and self._clock() - seen < WANTED

    def _rescan(self) -> None:
        found = dict(journey_files(self.target))
        with self._lock:
            now = self._clock()
            for key in list(self._states):
                seen = self._wanted.get(key)
                # a file that went away stays while its page is open (it may come back)
                if key not in found and (seen is None or now - seen >= WANTED):
                    del self._states[key]
                    self._watches.pop(key, None)
                    self._wanted.pop(key, None)
            for key, path in found.items():
                if key not in self._states:
                    self._watches[key] = _Watch(path, str(path))
                    self._states[key] = FileState(key, str(path))

    def _look(self, key: str) -> None:
        """Load the file again if it changed (by its stat, or by its content if small)."""
        w = self._watches[key]
        sig = _signature(w.path)
        small = sig is not None and sig[1] <= HASH_LIMIT
        if sig == w.signature and not small and w.digest is not None:
            return
        if sig != w.signature and sig is not None and w.digest is not None:
            # a save in progress: look again once it has settled
            time.sleep(0.03)
            if _signature(w.path) != sig:
                return
        w.signature = sig
        text, problems, digest = _read(w.path, w.name)
        if digest == w.digest:
            return
        w.digest = digest
        self._load(key, w, text, problems)

    def _load(self, key: str, w: _Watch, text: str | None, problems: tuple[str, ...]) -> None:
        from .loader import loads

        journey: Journey | None = None
        try:
            if text is not None:
                journey = loads(text, w.name)
        except JourneyError as exc:
            problems = _problems(exc)
        except Exception as exc:  # a bug in the loader: show it as a problem, keep serving
            problems = (f"{w.name}:1:1: internal error: {type(exc).__name__}: {exc}",)
        with self._lock:
            old = self._states.get(key) or FileState(key, w.name)
            new = replace(
                old,
                version=old.version + 1,
                title=journey.title if journey else old.title,
                problems=problems,
                errors={},
                pending=frozenset(VIEWS),
                journey=journey,
            )
            self._states[key] = new
        if problems:
            n = len(problems)
            self._log(f"{w.name}: {n} problem{'s' * (n != 1)}")
            for p in problems:
                self._log(f"  {p}")
        elif not self._is_wanted(key):
            self._log(f"{w.name}: ok")

    def _draw(self, key: str, state: FileState) -> None:
        """Draw every view still pending, publishing each as soon as it is ready.

        A save while drawing stops the rest: the next look loads the new version
        and draws that instead.
        """
        from .analysis import analyze

        assert state.journey is not None
        w = self._watches[key]
        started = time.perf_counter()
        analysis: Analysis | None = None
        for view in VIEWS:
            if view not in state.pending:
                continue
            if _signature(w.path) != w.signature:
                return
            error: str | None = None
            drawing: Drawing | None = None
            try:
                if analysis is None and view != "report":
                    analysis = analyze(state.journey)
                drawing = replace(draw(state.journey, view, analysis), version=state.version)
            except JourneyError as exc:
                error = "\n".join(_problems(exc))
            except Exception as exc:  # Graphviz or a bug: show it in the page, keep serving
                error = f"{w.name}: cannot draw the {view}: {type(exc).__name__}: {exc}"
            with self._lock:
                current = self._states.get(key)
                if current is None or current.version != state.version:
                    return
                drawn = dict(current.drawn)
                errors = dict(current.errors)
                if drawing is not None:
                    drawn[view] = drawing
                if error is not None:
                    errors[view] = error
                state = replace(
                    current, drawn=drawn, errors=errors, pending=current.pending - {view}
                )
                self._states[key] = state
            if error is not None:
                self._log(f"{w.name}: {error}")
        self._log(f"{w.name}: ok, drawn in {time.perf_counter() - started:.2f} s")


def journey_files(folder: Path) -> list[tuple[str, Path]]:
    """The journey files in a folder, by their path relative to it.

    Hidden folders (``.git``, ``.venv``) are not searched, folders reached by a
    link are not followed, and a file that is a link to somewhere outside the
    folder is left out: the preview shows only what is in the folder.
    """
    from .loader import is_journey_name

    root = folder.resolve()
    found: list[tuple[str, Path]] = []
    for here, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith(".") or not is_journey_name(name):
                continue
            path = Path(here, name)
            try:
                inside = path.resolve().is_relative_to(root)
            except (OSError, RuntimeError):  # a loop of links
                inside = False
            if inside:
                found.append((path.relative_to(folder).as_posix(), path))
    return sorted(found)


# HTTP -------------------------------------------------------------------------------

_COMMON = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)
_CSP_NONE = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_CSP_PAGE = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; connect-src 'self'; frame-src 'self'; base-uri 'none';"
    " form-action 'none'; frame-ancestors 'none'"
)
_CSP_SVG = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


@dataclass(frozen=True)
class Response:
    """An answer, made without touching the socket (so it is testable without one)."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    csp: str = _CSP_NONE
    headers: tuple[tuple[str, str], ...] = ()

    def all_headers(self) -> list[tuple[str, str]]:
        return [
            ("Content-Type", self.content_type),
            ("Content-Length", str(len(self.body))),
            ("Content-Security-Policy", self.csp),
            *_COMMON,
            *self.headers,
        ]


def _text(status: int, message: str) -> Response:
    return Response(status, (message + "\n").encode("utf-8"))


def _json(data: Any) -> Response:
    body = json.dumps(data, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return Response(200, body, "application/json")


def host_allowed(host: str | None, port: int) -> bool:
    """Is this the Host header of a request for us (and not a rebound name)?"""
    if host is None:
        return False
    allowed = {f"{HOST}:{port}", f"localhost:{port}"}
    if port == 80:
        allowed |= {HOST, "localhost"}
    return host.strip().lower() in allowed


def respond(preview: Preview, method: str, target: str, hosts: list[str], port: int) -> Response:
    """The answer to one request: a fixed route, its content made in memory.

    ``hosts`` are the request's Host headers (one, unless something is wrong).
    """
    if len(hosts) != 1 or not host_allowed(hosts[0], port):
        return _text(403, "This preview answers only http://127.0.0.1 and localhost.")
    if method != "GET":
        return Response(405, headers=(("Allow", "GET"),))
    if not target.startswith("/"):
        return _text(404, "Not found.")
    parts = urlsplit(target)
    try:
        query = parse_qs(parts.query, strict_parsing=False, max_num_fields=8)
    except ValueError:
        return _text(400, "Bad query.")
    key = query.get("f", [""])[0]
    route = parts.path
    if route == "/":
        keys = preview.keys()
        if not preview.folder or len(keys) == 1:
            return Response(
                302,
                content_type="text/plain",
                headers=(("Location", "/view?f=" + quote(keys[0], safe="")),),
            )
        return _page(LIST_HTML)
    if route == "/list":
        return _page(LIST_HTML)
    if route == "/view":
        return _page(VIEW_HTML)
    if route == "/app.js":
        return Response(200, APP_JS.encode("utf-8"), "text/javascript; charset=utf-8", _CSP_PAGE)
    if route == "/app.css":
        return Response(200, APP_CSS.encode("utf-8"), "text/css; charset=utf-8", _CSP_PAGE)
    if route == "/files":
        return _json(preview.files())
    state = preview.state(key) if route in _FILE_ROUTES else None
    if state is None:
        return _text(404, "Not found.")
    if route == "/state":
        preview.want(key)
        return _json(state.to_dict())
    view, content_type = _FILE_ROUTES[route]
    drawing = state.drawn.get(view)
    if drawing is None:
        return _text(404, "Not drawn yet.")
    return Response(
        200,
        drawing.body,
        content_type,
        drawing.csp,
        (("X-Journeymap-Version", str(drawing.version)),),
    )


_FILE_ROUTES = {
    "/state": ("", ""),
    "/flow.svg": ("flow", "image/svg+xml"),
    "/canvas.svg": ("canvas", "image/svg+xml"),
    "/report.html": ("report", "text/html; charset=utf-8"),
}


def _page(html: str) -> Response:
    return Response(200, html.encode("utf-8"), "text/html; charset=utf-8", _CSP_PAGE)


class _Handler(BaseHTTPRequestHandler):
    server_version = "journeymap"
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle connection gives back its thread

    def _answer(self) -> None:
        server = self.server
        assert isinstance(server, _Server)
        try:
            answer = respond(
                server.preview,
                self.command,
                self.path,
                self.headers.get_all("Host") or [],
                server.server_address[1],
            )
        except Exception as exc:  # a bug: answer and keep serving
            server.preview._log(f"error: answering {self.command}: {type(exc).__name__}: {exc}")
            answer = _text(500, "The preview failed to answer; see the terminal.")
        if self.command != "GET":
            self.close_connection = True  # a body it may have sent is never read
        self.send_response(answer.status)
        for name, value in answer.all_headers():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _answer

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows the files' state, not every poll of the page."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, preview: Preview) -> None:
        self.preview = preview
        super().__init__((HOST, port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer's own looks up the host's name, which may wait on DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that closes a connection mid-answer is no error worth a traceback."""


def serve(
    path: str | Path,
    *,
    port: int = 8000,
    open_browser: bool = False,
    log: Log = print,
) -> None:
    """Serve the live preview of a journey file or folder until Ctrl-C.

    ``log`` gets the URL, then a line per change of a file. A port in use is a
    JourneyError; nothing in a journey file can stop the server.
    """
    preview = Preview(path, log=log)
    try:
        server = _Server(port, preview)
    except OSError as exc:
        why = exc.strerror or str(exc)
        hint = " (--port 0 picks a free port)" if exc.errno == errno.EADDRINUSE else ""
        raise JourneyError(f"cannot listen on {HOST}:{port}: {why}{hint}") from None
    stop = threading.Event()
    try:
        url = f"http://{HOST}:{server.server_address[1]}/"
        worker = threading.Thread(target=preview.run, args=(stop,), daemon=True)
        worker.start()
        log(f"Previewing {path} at {url}  (Ctrl-C to stop)")
        if open_browser:
            import webbrowser

            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        log("stopped")
    finally:
        stop.set()
        server.server_close()


# The page ---------------------------------------------------------------------------
# Static: nothing from a journey is written into it. Its script asks for the
# state as JSON and shows every string from it as text.

VIEW_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>journeymap preview</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css">
</head>
<body data-page="view">
<header>
  <a id="all" href="/list">All journeys</a>
  <h1 id="title">Loading…</h1>
  <p id="file" class="muted"></p>
  <p id="status" role="status" aria-live="polite"></p>
</header>
<nav role="tablist" aria-label="Views">
  <button role="tab" id="tab-flow" data-view="flow" aria-controls="view-flow" aria-selected="true">Flow map</button>
  <button role="tab" id="tab-canvas" data-view="canvas" aria-controls="view-canvas" aria-selected="false">Canvas</button>
  <button role="tab" id="tab-report" data-view="report" aria-controls="view-report" aria-selected="false">Report</button>
  <a id="open-report" href="#" target="_blank" rel="noopener">Open the report in a tab</a>
</nav>
<section id="problems" role="alert" hidden>
  <h2></h2>
  <ul></ul>
  <p class="muted">The map below is the last version that loaded. Save a fix and it comes back.</p>
</section>
<main>
  <div id="view-flow" class="view fit" role="tabpanel" aria-labelledby="tab-flow" title="Click to zoom"></div>
  <div id="view-canvas" class="view fit" role="tabpanel" aria-labelledby="tab-canvas" title="Click to zoom" hidden></div>
  <div id="view-report" class="view" role="tabpanel" aria-labelledby="tab-report" hidden></div>
</main>
<script src="/app.js"></script>
</body>
</html>
"""

LIST_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>journeymap preview</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css">
</head>
<body data-page="list">
<header><h1>Journeys</h1><p id="status" role="status" aria-live="polite"></p></header>
<main><ul id="files"></ul></main>
<script src="/app.js"></script>
</body>
</html>
"""

APP_CSS = """
body { font: 15px/1.45 "DejaVu Sans", system-ui, sans-serif; margin: 0; color: #1d2733; background: #f6f7f9; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0 1em; padding: .6em 1.2em .2em; }
h1 { font-size: 1.3em; margin: 0; }
.muted, #file { color: #5b6672; margin: 0; }
#status { margin: 0 0 0 auto; color: #5b6672; }
#status.bad { color: #a4161a; font-weight: bold; }
nav { display: flex; gap: .3em; align-items: center; padding: .3em 1.2em; border-bottom: 1px solid #ccd3da; }
nav button { font: inherit; padding: .3em .9em; border: 1px solid #ccd3da; border-radius: 4px 4px 0 0; background: #e9edf1; cursor: pointer; }
nav button[aria-selected="true"] { background: #fff; border-bottom-color: #fff; font-weight: bold; }
nav a { margin-left: auto; }
main { padding: .8em 1.2em; }
#problems { margin: .8em 1.2em 0; padding: .6em 1em; border: 2px solid #a4161a; border-radius: 4px; background: #fff4f4; }
#problems h2 { font-size: 1.05em; margin: 0 0 .3em; color: #a4161a; }
#problems ul { margin: 0; padding-left: 1.2em; }
#problems li { font-family: "DejaVu Sans Mono", monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
.view { background: #fff; border: 1px solid #ccd3da; overflow: auto; max-height: calc(100vh - 9em); transition: opacity .2s; }
.view.fit svg { width: 100%; height: auto; }
.view svg { display: block; cursor: zoom-in; }
.view:not(.fit) svg { cursor: zoom-out; }
.view.stale { opacity: .3; filter: grayscale(1); }
#view-report { max-height: none; position: relative; }
#view-report iframe { display: block; width: 100%; height: calc(100vh - 9em); border: 0; }
#view-report iframe.loading { position: absolute; top: 0; left: 0; visibility: hidden; }
#files li { margin: .3em 0; }
.bad { color: #a4161a; }
"""

APP_JS = r"""// The live preview. It asks the server for the journey's state four times a second
// and swaps in each newly drawn view. Every string from a journey reaches the page as
// text (textContent) or inside an SVG parsed as XML; nothing is written as HTML.
(function () {
  "use strict";
  var POLL_MS = 250;
  var VIEWS = ["flow", "canvas", "report"];

  function json(r) {
    if (!r.ok) { throw new Error("HTTP " + r.status); }
    return r.json();
  }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function list() {
    var ul = document.getElementById("files");
    var status = document.getElementById("status");
    var last = null;
    function show(files) {
      var seen = JSON.stringify(files);
      if (seen === last) { return; }
      last = seen;
      ul.replaceChildren();
      status.textContent = files.length ? "" : "No journey files (*.yaml, *.yml, *.json) in this folder yet.";
      files.forEach(function (f) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = "/view?f=" + encodeURIComponent(f.key);
        a.textContent = f.title ? f.title + " (" + f.file + ")" : f.file;
        li.appendChild(a);
        if (f.problems) {
          var bad = document.createElement("span");
          bad.className = "bad";
          bad.textContent = " " + plural(f.problems, "problem");
          li.appendChild(bad);
        }
        ul.appendChild(li);
      });
    }
    function poll() {
      fetch("/files", { cache: "no-store" }).then(json).then(show, function () {
        last = null;
        status.textContent = "The preview server is not answering; trying again.";
      }).then(function () { setTimeout(poll, 1000); });
    }
    poll();
  }

  function view() {
    var key = new URLSearchParams(location.search).get("f") || "";
    var q = "f=" + encodeURIComponent(key);
    var shown = { flow: 0, canvas: 0, report: 0 };
    var busy = { flow: false, canvas: false, report: false };
    var state = null;
    var panel = document.getElementById("problems");
    var status = document.getElementById("status");
    var boxes = {};
    VIEWS.forEach(function (v) { boxes[v] = document.getElementById("view-" + v); });
    document.getElementById("open-report").href = "/report.html?" + q;

    var tabs = document.querySelectorAll("[role=tab]");
    function select(name) {
      if (VIEWS.indexOf(name) < 0) { name = "flow"; }
      tabs.forEach(function (t) {
        var on = t.getAttribute("data-view") === name;
        t.setAttribute("aria-selected", on ? "true" : "false");
        boxes[t.getAttribute("data-view")].hidden = !on;
      });
    }
    tabs.forEach(function (t) {
      t.addEventListener("click", function () {
        var name = t.getAttribute("data-view");
        select(name);
        history.replaceState(null, "", "#" + name);
      });
    });
    select(location.hash.slice(1));
    ["flow", "canvas"].forEach(function (v) {
      boxes[v].addEventListener("click", function () { boxes[v].classList.toggle("fit"); });
    });

    function loadSvg(v) {
      busy[v] = true;
      var version = 0;
      fetch("/" + v + ".svg?" + q, { cache: "no-store" }).then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        version = parseInt(r.headers.get("X-Journeymap-Version"), 10) || 0;
        return r.text();
      }).then(function (text) {
        var doc = new DOMParser().parseFromString(text, "image/svg+xml");
        var svg = doc.documentElement;
        if (svg.localName !== "svg" || doc.getElementsByTagName("parsererror").length) {
          throw new Error("not an SVG");
        }
        boxes[v].replaceChildren(document.importNode(svg, true));
        shown[v] = version;
      }).catch(function () { /* asked again on the next poll */ }).then(function () {
        busy[v] = false;
        paint();
      });
    }

    // how far the report is scrolled, so that its next version opens there
    var reportY = 0;
    window.addEventListener("message", function (e) {
      var shownFrame = boxes.report.querySelector("iframe:not(.loading)");
      if (shownFrame && e.source === shownFrame.contentWindow && e.data &&
          typeof e.data.journeymapScroll === "number" && e.data.journeymapScroll >= 0) {
        reportY = Math.floor(e.data.journeymapScroll);
      }
    });

    function loadReport(version) {
      busy.report = true;
      var box = boxes.report;
      var frame = document.createElement("iframe");
      frame.setAttribute("sandbox", "allow-scripts");
      frame.title = "Report";
      frame.className = "loading";
      frame.addEventListener("load", function () {
        Array.prototype.slice.call(box.querySelectorAll("iframe")).forEach(function (old) {
          if (old !== frame) { old.remove(); }
        });
        frame.className = "";
        shown.report = version;
        busy.report = false;
        paint();
      });
      frame.src = "/report.html?" + q + "&v=" + version + "&y=" + reportY;
      box.appendChild(frame);
    }

    function paint() {
      if (!state) { return; }
      var problems = state.problems.slice();
      VIEWS.forEach(function (v) {
        var info = state.views[v];
        if (info.error) { problems.push(info.error); }
        if (info.version && info.version > shown[v] && !busy[v]) {
          if (v === "report") { loadReport(info.version); } else { loadSvg(v); }
        }
        var broken = state.problems.length > 0 || !!info.error;
        boxes[v].classList.toggle("stale", broken);
        boxes[v].setAttribute("aria-busy", (!broken && shown[v] < state.version) ? "true" : "false");
      });
      document.getElementById("title").textContent = state.title || state.file;
      document.title = (state.title || state.file) + " - journeymap preview";
      document.getElementById("file").textContent = state.file;
      var items = panel.querySelector("ul");
      if (problems.length) {
        var lines = [];
        problems.forEach(function (p) { lines = lines.concat(p.split("\n")); });
        var head = state.problems.length
          ? plural(state.problems.length, "problem") + " in " + state.file
          : "The map could not be drawn";
        if (panel.hidden || panel.getAttribute("data-seen") !== JSON.stringify(lines)) {
          panel.querySelector("h2").textContent = head;
          items.replaceChildren();
          lines.forEach(function (line) {
            var li = document.createElement("li");
            li.textContent = line;
            items.appendChild(li);
          });
          panel.setAttribute("data-seen", JSON.stringify(lines));
        }
        panel.hidden = false;
        status.textContent = head;
        status.className = "bad";
      } else {
        panel.hidden = true;
        var behind = VIEWS.some(function (v) { return state.views[v].pending || shown[v] < state.version; });
        status.textContent = behind ? "Drawing version " + state.version + "…" : "Up to date (version " + state.version + ")";
        status.className = "";
      }
    }

    function poll() {
      fetch("/state?" + q, { cache: "no-store" }).then(function (r) {
        if (r.status === 404) {
          state = null;
          status.textContent = "No such journey in this preview; see All journeys.";
          status.className = "bad";
          return;
        }
        return json(r).then(function (s) { state = s; paint(); });
      }).catch(function () {
        status.textContent = "The preview server is not answering; trying again.";
        status.className = "bad";
      }).then(function () { setTimeout(poll, POLL_MS); });
    }
    poll();
  }

  if (document.body.getAttribute("data-page") === "list") { list(); } else { view(); }
})();
"""
