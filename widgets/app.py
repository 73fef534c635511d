"""The multi-page Panel server behind ``workbench serve``.

:data:`PAGES` is the registry of pages: URL slug → title, description and the factory that
builds one session's page (``"module:function"``, called with an :class:`AppConfig`). A page
whose module is not written yet is left out, so the registry can name pages ahead of their
code. The index page at ``/`` links every available page.
"""
from __future__ import annotations

import dataclasses
import importlib
import signal
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import panel as pn

from workbench.errors import WorkbenchError
from workbench.estimators import brute_force
from workbench.runs import default_root
from workbench.training.session import TrainingGate

from .components import HEADER_COLOR


@dataclass(frozen=True)
class AppConfig:
    """Settings every page may read (``workbench serve`` flags)."""

    max_upload_mb: float = 50.0
    runs_dir: str = field(default_factory=lambda: str(default_root()))
    #: Trainings (Plane Studio, Entropy Monitor) that run at once; later ones wait in line.
    max_trainings: int = 2
    #: The line itself, shared by every session of one server (:func:`routes` makes it).
    gate: TrainingGate | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    target: str  # "module:function"; the function takes an AppConfig and returns a Viewable
    description: str


PAGES: tuple[Page, ...] = (
    Page("estimator_lab", "Estimator Lab", "widgets.estimator_lab:page",
         "Pick data (a ground-truth task or your file) and an estimator, move its knobs, and "
         "compare the estimate with the truth, against sample size and against each knob."),
    Page("plane_studio", "Plane Studio", "widgets.plane_studio:page",
         "Train a small network and watch its information plane move, layer by layer."),
    Page("entropy_monitor", "Entropy Monitor", "widgets.entropy_monitor:page",
         "Follow entropies of representations and attention over a training run."),
    Page("beyond_pairs", "Beyond Pairs", "widgets.beyond_pairs:page",
         "Redundancy and synergy: partial information decomposition of a gate or your data, "
         "O-information of every multiplet, transfer entropy with surrogate p-values."),
    Page("decoding_lab", "Decoding Lab", "widgets.decoding_lab:page",
         "Generate from a tiny character transformer with temperature, top-k, top-p, η, "
         "typical or min-p sampling and watch, per character, the model's entropy, the "
         "entropy of what is sampled and the stable entropy band; semantic entropy of sampled "
         "continuations."),
)


def load_factory(page: Page) -> Callable[[AppConfig], pn.viewable.Viewable] | None:
    """The page's factory, or None while its module does not exist yet."""
    module_name, _, attr = page.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    return getattr(module, attr)


def available_pages() -> list[tuple[Page, Callable]]:
    """Registered pages whose code exists, with their factories, in registry order."""
    found = [(page, load_factory(page)) for page in PAGES]
    return [(page, factory) for page, factory in found if factory is not None]


def index_page(pages: Sequence[Page]) -> pn.viewable.Viewable:
    """``/``: one card per page with its title, link and description."""
    cards = [pn.pane.HTML(f'<h3><a href="./{p.slug}" class="wb-page-link">{p.title}</a></h3>'
                          f"<p>{p.description}</p>", css_classes=[f"wb-index-{p.slug}"],
                          sizing_mode="stretch_width") for p in pages]
    intro = pn.pane.Markdown(
        "Interactive apps for estimating entropy and mutual information. Every number is "
        "labelled with its unit (bits or nats).", sizing_mode="stretch_width")
    return pn.template.BootstrapTemplate(title="workbench", main=[intro, *cards],
                                         header_background=HEADER_COLOR)


def routes(config: AppConfig) -> dict[str, Callable[[], pn.viewable.Viewable]]:
    """URL slug → zero-argument factory, as ``pn.serve`` takes them (one call per session).

    Every page of a session is its own object (its uploads, results and training); what the
    sessions share is ``config``, with one :class:`TrainingGate` (made here if ``config`` has
    none) so that at most ``config.max_trainings`` trainings run at once."""
    pages = available_pages()
    if config.gate is None:
        config = dataclasses.replace(config, gate=TrainingGate(config.max_trainings))

    # plain functions, not functools.partial: pn.serve renders a partial as its repr
    def bind(func, *args):
        def make():
            return func(*args)
        return make

    out = {"/": bind(index_page, [p for p, _ in pages])}
    for page, factory in pages:
        out[page.slug] = bind(factory, config)
    return out


def default_origins(address: str, port: int) -> list[str]:
    """Browser origins accepted for the websocket when none are given: the loopback names."""
    hosts = {"localhost", "127.0.0.1"}
    if address not in ("", "0.0.0.0", "::"):
        hosts.add(address)
    return sorted(f"{host}:{port}" for host in hosts)


def normalize_prefix(prefix: str) -> str:
    """``"panel/"`` or ``"/panel"`` -> ``"/panel"``; ``""`` or ``"/"`` -> ``""`` (the root)."""
    prefix = prefix.strip("/")
    return f"/{prefix}" if prefix else ""


def prefixed_favicon(prefix: str) -> list[tuple]:
    """Bokeh serves the icon at ``/favicon.ico`` whatever the prefix, but the pages ask for it
    under the prefix (a 404 behind a proxy): send that request to Panel's copy of the icon."""
    if not prefix:
        return []
    from tornado.web import RedirectHandler

    # Bokeh puts the prefix in front of every extra pattern
    return [(r"/favicon\.ico", RedirectHandler,
             {"url": f"{prefix}/static/extensions/panel/images/favicon.ico"})]


def serve(config: AppConfig = AppConfig(), *, port: int = 5006, address: str = "127.0.0.1",
          allow_websocket_origin: Sequence[str] | None = None, show: bool = False,
          prefix: str = "", out=sys.stdout) -> int:
    """Start one server with every available page and block until Ctrl-C or SIGTERM.

    Binds ``address`` only (loopback by default). Uploads travel over the websocket as base64,
    so its message limit is raised to twice the upload limit: a file somewhat over the limit
    still arrives and is refused with a clear message instead of dropping the connection.

    ``prefix`` serves every page under a URL path (``/user/x/panel/estimator_lab``), as a
    reverse proxy that forwards the full path needs (jupyter-server-proxy with
    ``absolute_url``, see binder/jupyter_server_config.py)."""
    if config.max_upload_mb <= 0:
        raise WorkbenchError(f"--max-upload-mb must be positive, got {config.max_upload_mb}")
    if config.max_trainings < 1:
        raise WorkbenchError(f"--max-trainings must be at least 1, got {config.max_trainings}")
    if port == 0:  # pick one now: the websocket origins must name the real port
        with socket.socket() as sock:
            sock.bind((address or "127.0.0.1", 0))
            port = sock.getsockname()[1]
    ws_limit = int(2 * config.max_upload_mb * 2**20 * 4 / 3) + 2**20
    origins = list(allow_websocket_origin or [])
    pages = available_pages()
    server = pn.serve(routes(config), port=port, address=address, show=False, start=False,
                      title={"/": "workbench"} | {p.slug: p.title for p, _ in pages},
                      websocket_origin=origins or default_origins(address, port),
                      websocket_max_message_size=ws_limit, verbose=False,
                      prefix=normalize_prefix(prefix),
                      extra_patterns=prefixed_favicon(normalize_prefix(prefix)))
    url = (f"http://{'localhost' if address in ('127.0.0.1', '') else address}:{server.port}"
           f"{normalize_prefix(prefix)}/")
    print(f"workbench apps at {url}", file=out, flush=True)
    for page, _ in pages:
        print(f"  {page.title:<16} {url}{page.slug}", file=out, flush=True)
    print(f"At most {config.max_trainings} trainings at once; later ones wait in line.",
          file=out, flush=True)
    print("Press Ctrl-C to stop.", file=out, flush=True)

    def stop(*_):
        server.io_loop.asyncio_loop.call_soon_threadsafe(server.io_loop.stop)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # compile (or load from cache) the kNN kernels while nobody waits for them
    threading.Thread(target=brute_force.warm_up, name="workbench-warm-up", daemon=True).start()
    server.start()
    if show:
        server.io_loop.add_callback(server.show, "/")
    try:
        server.io_loop.start()
    finally:
        server.stop()
        print("workbench server stopped.", file=out, flush=True)
    return 0
