"""``workbench serve``: the interactive apps (Estimator Lab, and the pages added later) on one
Panel server. Panel is imported only when the command runs, so ``import workbench`` and the
other subcommands stay light."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import WorkbenchError
from ..io import DEFAULT_MAX_BYTES

_EPILOG = """\
Network: the server binds 127.0.0.1 (this machine only) unless --address says otherwise.
Browsers connect over a websocket, and the server accepts it only from the origins it knows:
localhost:PORT and 127.0.0.1:PORT by default. When you open the apps under another name, such
as a remote host, a port forwarded to another port, a reverse proxy or a container's published
port, name that origin as HOST:PORT, the address as typed in the browser:

  workbench serve --address 0.0.0.0 --allow-websocket-origin myhost.example.org:5006

Repeat the flag for several origins. Without it the page loads but stays blank, and the
server logs "Refusing websocket connection from Origin ...".
"""


def register(sub) -> None:
    p = sub.add_parser(
        "serve", help="serve the interactive apps (Estimator Lab, ...) in the browser",
        description="Serve the workbench apps on one Panel server: an index at / and one page "
                    "per app (/estimator_lab, ...). Stop with Ctrl-C (or SIGTERM).",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=5006,
                   help="TCP port (default 5006; 0 picks a free one)")
    p.add_argument("--address", default="127.0.0.1",
                   help="interface to bind (default 127.0.0.1, this machine only; 0.0.0.0 "
                        "listens on every interface)")
    p.add_argument("--allow-websocket-origin", action="append", default=None,
                   metavar="HOST:PORT",
                   help="accept browser connections from this origin (repeatable); default: "
                        "localhost:PORT and 127.0.0.1:PORT. See below")
    p.add_argument("--prefix", default="", metavar="PATH",
                   help="serve the pages under this URL path (/PATH/estimator_lab), for a "
                        "reverse proxy that forwards the full path, such as the Jupyter "
                        "server's proxy on Binder (default: the root)")
    p.add_argument("--show", action="store_true",
                   help="open the index page in a web browser (off by default)")
    p.add_argument("--max-upload-mb", type=float, default=DEFAULT_MAX_BYTES / 2**20,
                   help="largest file the apps accept, in MiB (default %(default)g)")
    p.add_argument("--max-trainings", type=int, default=2, metavar="N",
                   help="trainings (Plane Studio, Entropy Monitor) that run at once; later "
                        "ones wait in line and their pages show their place (default 2)")
    p.add_argument("--runs-dir", default=None,
                   help="folder of saved runs the apps read and write (default: $WORKBENCH_RUNS "
                        "or workbench/runs in your data directory, e.g. "
                        "~/.local/share/workbench/runs)")
    p.set_defaults(func=_serve)


def _serve(args, extra) -> int:
    if not 0 <= args.port <= 65535:
        raise WorkbenchError(f"--port must be in 0..65535, got {args.port}")
    from widgets.app import AppConfig, serve  # Panel loads only here

    from ..runs import default_root

    runs_dir = default_root() if args.runs_dir is None else Path(args.runs_dir)
    config = AppConfig(max_upload_mb=args.max_upload_mb, runs_dir=str(runs_dir),
                       max_trainings=args.max_trainings)
    return serve(config, port=args.port, address=args.address,
                 allow_websocket_origin=args.allow_websocket_origin, show=args.show,
                 prefix=args.prefix)
