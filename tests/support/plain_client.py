"""A plain HTTP client in a process of its own, so that what it measures is the server's
answer and not its parent's event loop: sequential GETs on one keep-alive connection
until its standard input closes, then one JSON line: each request's seconds, and the
failures.

    python -m tests.support.plain_client PORT PATH HOST
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time


def main(port: int, path: str, host: str) -> None:
    stop = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    timings: list[float] = []
    failures: list[str] = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while not stop.is_set():
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers={"Host": host})
            answer = connection.getresponse()
            answer.read()
            if answer.status >= 500:
                failures.append(str(answer.status))
        except (OSError, http.client.HTTPException) as exc:
            failures.append(repr(exc))
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        timings.append(time.perf_counter() - started)
        time.sleep(0.01)
    print(json.dumps({"timings": timings, "failures": failures}))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3])
