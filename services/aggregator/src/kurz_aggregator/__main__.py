import signal
import sys

from kurz.serve import serve
from kurz.settings import load_settings


def _exit_cleanly(signum: int, frame: object) -> None:
    sys.exit(0)


# uvicorn drains on SIGTERM, then raises the signal again with the handler found at
# start: this one turns that into exit status 0 (a clean stop) instead of death by signal.
signal.signal(signal.SIGTERM, _exit_cleanly)
serve("kurz_aggregator.app:create_app", load_settings(), 8081)
