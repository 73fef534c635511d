"""Jupyter server configuration that serves the workbench apps through the Jupyter server.

jupyter-server-proxy starts ``workbench serve`` on a free local port the first time someone
opens ``<base_url>panel/`` and forwards the page and its websocket, behind the Jupyter server's
login. On Binder: ``https://mybinder.org/v2/gh/OWNER/REPO/HEAD?urlpath=panel/estimator_lab``.

``absolute_url`` forwards the full path (``/user/x/panel/estimator_lab``), so the Panel server
is told its prefix and writes links and resource URLs under it. The websocket origin is the
Jupyter server's public name, unknown here, hence ``*``: the proxy path itself already needs
the Jupyter server's token or login.

binder/postBuild copies this file to ``$JUPYTER_CONFIG_DIR`` (default ``~/.jupyter``); locally,
``jupyter lab --config binder/jupyter_server_config.py`` does the same.
"""
import sys

c = get_config()  # noqa: F821  (defined by Jupyter when it loads this file)

c.ServerProxy.servers = {
    "panel": {
        "command": [sys.executable, "-m", "workbench", "serve", "--port", "{port}",
                    "--prefix", "{base_url}panel", "--allow-websocket-origin", "*"],
        "absolute_url": True,
        # Panel, the pages and the kNN kernels load at start-up: seconds on a Binder CPU
        "timeout": 180,
        "launcher_entry": {"enabled": True, "title": "Workbench apps"},
    },
}
