"""The lab: train a network live in the browser on the real engine, and look inside while it learns.

``microgradnet lab`` (or :func:`serve`) starts a local web server on 127.0.0.1 and prints the
page's address with its secret token. The page builds a network, trains it in a worker thread
(play, pause, one step, one epoch; learning rate and batch size change while it runs), shows
the cost, the accuracies, the first layer's weights and each layer's weight distribution,
explains any step with the backprop stepper, lets the learner draw a digit and poke single
neurons, and maps what each layer sees. It needs the ``lab`` extra
(``pip install "microgradnet[lab]"``: Starlette and uvicorn).
"""

from __future__ import annotations

import secrets
import socket
import sys
import webbrowser

from .session import LabError, LabSession

__all__ = ["LabError", "LabSession", "serve"]


def _bind(host: str, port: int, tries: int = 20) -> socket.socket:
    """A listening socket on ``host``: ``port``, or the next free one (``port=0``: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    last = None
    for p in [0] if port == 0 else range(port, port + tries):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, p))
        except OSError as e:
            sock.close()
            last = e
            continue
        sock.listen(64)
        sock.set_inheritable(True)
        return sock
    raise OSError(f"no free port on {host} from {port} to {port + tries - 1}: {last}")


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    open_browser: bool = True,
    data_dir=None,
    save_dir="microgradnet-lab",
    token: str | None = None,
    out=sys.stdout,
) -> None:
    """Run the lab until Ctrl-C. The first line written to ``out`` is the page's address with
    its token (``http://127.0.0.1:PORT/?token=…``): anyone with it can use the lab."""
    try:
        import uvicorn

        from .server import allowed_hosts, create_app
    except ImportError as e:
        raise LabError(f'the lab needs its extra: pip install "microgradnet[lab]" ({e})') from None
    token = token or secrets.token_urlsafe(24)
    sock = _bind(host, port)
    port = sock.getsockname()[1]
    session = LabSession(data_dir=data_dir, save_dir=save_dir)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/?token={token}"
    print(url, file=out, flush=True)
    print(f"models you save go to {session.save_dir.resolve()}; Ctrl-C stops the lab", file=out, flush=True)
    app = create_app(session, token, allowed_hosts(host, port))
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2, lifespan="off")
    server = uvicorn.Server(config)
    if open_browser:
        webbrowser.open(url)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shut down on Ctrl-C, then passed the signal on
        pass
    finally:
        session.close()
        sock.close()
    print("the lab stopped", file=out, flush=True)
