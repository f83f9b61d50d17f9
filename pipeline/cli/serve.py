"""`behaviours serve`: the tagging page and JSON API on this machine."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from pipeline.cli.app import BackendModelOption, BackendOption, ParamsOption, app, console
from pipeline.config import DEFAULT_PARAMS, load_params
from pipeline.serve import create_app, server
from pipeline.tagger import load_tagger
from pipeline.taxonomy import load_taxonomy


@app.command()
def serve(
    model_dir: BackendModelOption = None,
    backend: BackendOption = None,
    params_file: ParamsOption = DEFAULT_PARAMS,
    host: Annotated[Optional[str], typer.Option(help="Address to listen on (default: serve.host, this machine).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default: serve.port).")] = None,
) -> None:
    """A web page and JSON API for tagging notes on this machine: open http://127.0.0.1:8000/ (API docs at /docs)."""
    params = load_params(params_file)
    taxonomy = load_taxonomy()
    web = create_app(load_tagger(model_dir, params, taxonomy.ids, backend), taxonomy, params.serve)
    host, port = host or params.serve.host, port or params.serve.port
    console.print(f"Tagging page on http://{host}:{port}/ (API docs: /docs). Ctrl-C stops it.", highlight=False)
    server(web, params.serve, host, port).run()
