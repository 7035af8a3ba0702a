"""dockervisor's own check that a container serves, from the host: the
`probe` of dcv-IMAGENAME (config/healthcheck.py), for images with no shell
or wget to run a docker health check with."""

from __future__ import annotations

_LONGEST_WAIT = 2.0  # one probe; the wait polls again after it


def check(url: str, timeout: float = _LONGEST_WAIT) -> str | None:
    """None when `url` answers: an HTTP status 2xx or 3xx (a redirect is an
    answer: it is not followed), or a TCP connection accepted; otherwise what
    it did instead, in a few words."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "tcp":
        import socket

        try:
            socket.create_connection((parts.hostname, parts.port), timeout=timeout).close()
        except OSError as error:
            return f"no TCP connection ({error.strerror or type(error).__name__})"
        return None
    import urllib.error
    import urllib.request

    class _Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
            return None  # a 3xx is raised as HTTPError, and counts as an answer

    opener = urllib.request.build_opener(_Stay)
    try:
        with opener.open(urllib.request.Request(url, method="GET"), timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return f"no answer ({getattr(reason, 'strerror', None) or reason})"
    return None if 200 <= status < 400 else f"it answered {status}"
