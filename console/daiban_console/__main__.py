"""`python -m daiban_console --port 8000 --config console.json`: serve the console."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from daiban_console.app import create_app
from daiban_console.config import ConsoleConfig


def main() -> None:
    parser = argparse.ArgumentParser(prog="daiban_console", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--config", type=Path, default=os.environ.get("DAIBAN_CONSOLE_CONFIG"))
    args = parser.parse_args()
    if args.config is None:
        parser.error("--config or DAIBAN_CONSOLE_CONFIG: the JSON file naming the services")
    uvicorn.run(
        create_app(ConsoleConfig.load(args.config)), host=args.host, port=args.port, log_level="warning"
    )


if __name__ == "__main__":
    main()
