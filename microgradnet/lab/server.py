"""The lab's web side: a Starlette app in front of one :class:`~microgradnet.lab.session.LabSession`.

Only the person who started the lab may use it. Every request must carry the random token
printed with the URL (in the URL's ``?token=``, which the first visit turns into a cookie, or
an ``Authorization: token …`` header); its ``Host`` must be the address the lab listens on and
its ``Origin``, if any, that same address (so a web page elsewhere cannot drive it through DNS
rebinding). No request names a file: models are saved into the folder fixed at start.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from importlib import resources
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..errors import MicrogradnetError
from .session import LabError, LabSession

log = logging.getLogger("microgradnet.lab")

UPDATES_PER_SECOND = 10  # how often the page hears about training (the stream polls the session)
MAX_BODY = 1 << 20  # a request body larger than 1 MiB is refused
ASSETS = {
    "lab.js": "text/javascript",
    "prepare.js": "text/javascript",
    "lab.css": "text/css",
    "lab.html": "text/html",
}
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


SHARED = {"prepare.js": "microgradnet.viz"}  # assets the lab shares with the pictures' pages


def _asset(name: str) -> bytes:
    return resources.files(SHARED.get(name, __package__)).joinpath("assets").joinpath(name).read_bytes()


def allowed_hosts(host: str, port: int) -> set[str]:
    """The ``Host`` header values a request may carry: the bound address and, for a loopback
    address, the other names of this machine's loopback."""
    names = {host}
    if host in ("127.0.0.1", "localhost", "::1"):
        names |= {"127.0.0.1", "localhost", "[::1]"}
    if ":" in host and not host.startswith("["):
        names.add(f"[{host}]")
    return {f"{n}:{port}" for n in names}


class Guard:
    """ASGI middleware: refuse any request without the token, or from another Host/Origin."""

    def __init__(self, app, token: str, hosts: set[str]):
        self.app = app
        self.token = token.encode("utf-8")
        self.hosts = hosts
        self.origins = {f"http://{h}" for h in hosts}
        self.cookie = "microgradnet-lab-" + min(hosts).rsplit(":", 1)[-1]

    def _token_of(self, scope, headers) -> tuple[str | None, bool]:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if query.get("token"):
            return query["token"][0], True
        auth = headers.get("authorization", "")
        if auth.lower().startswith("token "):
            return auth[6:].strip(), False
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == self.cookie:
                return value, False
        return None, False

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if headers.get("host", "") not in self.hosts:
            return await _refuse(scope, receive, send, "refused: unexpected Host header")
        origin = headers.get("origin")
        if origin is not None and origin not in self.origins:
            return await _refuse(
                scope, receive, send, "refused: a page from another origin cannot use the lab"
            )
        token, in_url = self._token_of(scope, headers)
        if token is None or not hmac.compare_digest(token.encode("utf-8"), self.token):
            return await _refuse(
                scope,
                receive,
                send,
                "refused: this lab needs its token; open the URL it printed when it started",
            )
        if not in_url:
            return await self.app(scope, receive, send)
        cookie = f"{self.cookie}={token}; Path=/; HttpOnly; SameSite=Strict".encode("latin-1")

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie)]
            await send(message)

        return await self.app(scope, receive, send_with_cookie)


async def _refuse(scope, receive, send, text: str):
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    await Response(text + "\n", status_code=403, media_type="text/plain")(scope, receive, send)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(session: LabSession, token: str, hosts: set[str]):
    """The lab's ASGI app: the page, its assets, the JSON API and the update stream."""

    async def call(request: Request, fn, *args):
        try:
            result = await run_in_threadpool(fn, *args)
        except (LabError, MicrogradnetError, ValueError, TypeError) as e:
            return _error(400, str(e))
        except Exception as e:  # noqa: BLE001 - the page shows one line, the log the rest
            log.exception("lab request %s failed", request.url.path)
            return _error(500, f"{type(e).__name__}: {e}")
        return result if isinstance(result, Response) else JSONResponse(result)

    async def body(request: Request) -> dict:
        size = request.headers.get("content-length")
        if size is not None and (not size.isdigit() or int(size) > MAX_BODY):
            raise LabError("the request body is too large (1 MiB at most)")
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise LabError("the request body is too large (1 MiB at most)")
        try:
            data = json.loads(raw or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise LabError("the request body must be JSON") from None
        if not isinstance(data, dict):
            raise LabError("the request body must be a JSON object")
        return data

    def api(handler):
        """A POST endpoint taking a JSON object: LabErrors become a 400 with their message."""

        async def endpoint(request: Request):
            try:
                data = await body(request)
            except LabError as e:
                return _error(400, str(e))
            return await call(request, handler, data)

        return endpoint

    def pick(data: dict, *names, required=()):
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise LabError(f"unknown field(s) {', '.join(unknown)}; expected {', '.join(names)}")
        missing = [n for n in required if n not in data]
        if missing:
            raise LabError(f"missing field(s) {', '.join(missing)}")
        return {n: data[n] for n in names if n in data}

    async def page(request: Request):
        return Response(_asset("lab.html"), media_type="text/html", headers={"Content-Security-Policy": _CSP})

    async def asset(request: Request):
        name = request.path_params["name"]
        if name not in ASSETS or name == "lab.html":
            return Response("no such asset\n", status_code=404, media_type="text/plain")
        return Response(_asset(name), media_type=ASSETS[name], headers={"Cache-Control": "no-store"})

    async def state(request: Request):
        since = request.query_params.get("since", "0")
        if not since.isdigit():
            return _error(400, "since must be a whole number")
        return await call(request, session.state, int(since))

    async def info(request: Request):
        def run():
            return {"datasets": session.available_datasets(), "save_dir": str(session.save_dir.resolve())}

        return await call(request, run)

    async def weights(request: Request):
        return await call(request, session.weights)

    async def confusion(request: Request):
        return await call(request, session.confusion)

    async def explain(request: Request):
        def run():
            html = session.explain_html()
            # The stepper page carries its own strict policy (one script, by its hash).
            return HTMLResponse(html)

        return await call(request, run)

    async def stream(request: Request):
        """Server-sent events: the session's state about ten times a second, only when it changed."""
        asked = request.query_params.get("since", "0")
        since = int(asked) if asked.isdigit() else 0

        async def events():
            nonlocal since
            last = None
            idle = 0
            try:
                while True:
                    st = await asyncio.to_thread(session.state, since)
                    key = (
                        st["version"],
                        st["step"],
                        st["mode"],
                        st["error"],
                        len(st["saved"]),
                        st["can_undo"],
                    )
                    if key != last or st["step_costs_from"] != since:
                        last = key
                        idle = 0
                        since = st["step_costs_from"] + len(st["step_costs"])
                        yield f"data: {json.dumps(st)}\n\n"
                    else:
                        idle += 1
                        if idle % (5 * UPDATES_PER_SECOND) == 0:
                            yield ": still here\n\n"  # keeps proxies and the browser patient
                    await asyncio.sleep(1.0 / UPDATES_PER_SECOND)
            except asyncio.CancelledError:  # the page went away: end quietly
                return

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    def build(data):
        return session.build(
            **pick(data, "dataset", "hidden", "activation", "loss", "lr", "batch_size", "seed")
        )

    def control(data):
        d = pick(data, "action", "lr", "batch_size", required=("action",))
        return session.control(d["action"], lr=d.get("lr"), batch_size=d.get("batch_size"))

    def forward(data):
        return session.forward(pick(data, "input", required=("input",))["input"])

    def neuron(data):
        d = pick(data, "layer", "index", "input", required=("layer", "index", "input"))
        return session.neuron(d["layer"], d["index"], d["input"])

    def poke(data):
        d = pick(data, "layer", "index", "action", "amount", required=("layer", "index", "action"))
        return session.poke(d["layer"], d["index"], d["action"], d.get("amount", 0.0))

    def undo(data):
        pick(data)
        return session.undo()

    def save(data):
        pick(data)
        return {"saved": session.save(), "save_dir": str(session.save_dir.resolve())}

    def images(data):
        return session.images(pick(data, "ids", required=("ids",))["ids"])

    def embedding(data):
        d = pick(data, "layer", "method", "n", required=("layer",))
        return session.embedding(d["layer"], d.get("method", "pca"), d.get("n", 500))

    routes = [
        Route("/", page),
        Route("/assets/{name}", asset),
        Route("/api/info", info),
        Route("/api/state", state),
        Route("/api/stream", stream),
        Route("/api/weights", weights),
        Route("/api/confusion", confusion),
        Route("/api/explain", explain),
        Route("/api/build", api(build), methods=["POST"]),
        Route("/api/control", api(control), methods=["POST"]),
        Route("/api/forward", api(forward), methods=["POST"]),
        Route("/api/neuron", api(neuron), methods=["POST"]),
        Route("/api/poke", api(poke), methods=["POST"]),
        Route("/api/undo", api(undo), methods=["POST"]),
        Route("/api/save", api(save), methods=["POST"]),
        Route("/api/images", api(images), methods=["POST"]),
        Route("/api/embedding", api(embedding), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    return Guard(app, token, hosts)
