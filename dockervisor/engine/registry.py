"""What a registry says about a reference without pulling it: the digest its
tag names now, and the repository's tags (`check`, `update`).

The registry is asked over its HTTP API (distribution v2) by this process,
not by the engine: `docker` has no command that lists tags, and `docker
manifest inspect` answers only with more work. Loopback registries
(127.0.0.0/8, localhost, ::1) are spoken to over plain HTTP, as the engine
does; every other over HTTPS. Credentials: anonymous, or the `auth` that
`docker login` stored in ~/.docker/config.json (or $DOCKER_CONFIG); a
credential helper is not run, and a registry that then refuses says so.
The credentials are sent only to the registry and its token service, and
never shown.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request

from dockervisor.core.errors import DockervisorError

_TIMEOUT = 20  # seconds per request
_MANIFESTS = ", ".join((
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
))  # fmt: skip
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_MOST_TAG_PAGES = 20


class _Redirects(urllib.request.HTTPRedirectHandler):
    """A redirect keeps the credentials only to the same scheme, host and
    port (urllib's own handler hands them to any host), and never goes from
    HTTPS to plain HTTP."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is None:
            return None
        before, after = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(new.full_url)
        if before.scheme == "https" and after.scheme != "https":
            raise urllib.error.HTTPError(newurl, code, "a redirect from HTTPS to plain HTTP, refused", headers, fp)
        if (before.scheme, before.netloc) != (after.scheme, after.netloc):
            new.remove_header("Authorization")
        return new


_OPENER = urllib.request.build_opener(_Redirects)


class Reference:
    """A parsed image reference, normalized as docker does: `app:1.4` is
    docker.io/library/app:1.4."""

    __slots__ = ("domain", "path", "tag", "digest", "name")

    def __init__(self, domain: str, path: str, tag: str | None, digest: str | None, name: str) -> None:
        self.domain = domain  # "docker.io", "127.0.0.1:5000"
        self.path = path  # "library/app"
        self.tag = tag
        self.digest = digest
        self.name = name  # as the engine writes it in RepoDigests: "app", "127.0.0.1:5000/app"

    def with_tag(self, tag: str) -> str:
        return f"{self.name}:{tag}"

    def pinned(self, digest: str) -> str:
        return f"{self.name}@{digest}"

    def __str__(self) -> str:
        return self.name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def parse(text: str) -> Reference:
    """ValueError for what is no image reference."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9._:/@\[\]-]{0,300}", text.lower()) or text != text.strip():
        raise ValueError(f"{text[:80]!r} is no image reference")
    rest, _, digest = text.partition("@")
    if digest and not _DIGEST.fullmatch(digest):
        raise ValueError(f"{text[:80]!r}: {digest[:80]!r} is no sha256 digest")
    slash = rest.rfind("/")
    name, colon, tag = rest.rpartition(":") if rest.rfind(":") > slash else (rest, "", "")
    if colon and not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag):
        raise ValueError(f"{text[:80]!r}: {tag[:80]!r} is no tag")
    first, _, remainder = name.partition("/")
    if remainder and ("." in first or ":" in first or first == "localhost"):
        domain, path, familiar = first, remainder, name
    else:
        domain, path = "docker.io", name if remainder else f"library/{name}"
        familiar = name[len("library/"):] if name.startswith("library/") else name
    if not re.fullmatch(r"[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*", path):
        raise ValueError(f"{text[:80]!r}: {path!r} is no repository name")
    return Reference(domain, path, tag or (None if digest else "latest"), digest or None, familiar)


def base_url(domain: str) -> str:
    """Where the registry's API is: plain HTTP for loopback only."""
    if domain == "docker.io":
        return "https://registry-1.docker.io"
    host = domain.rsplit(":", 1)[0] if not domain.endswith("]") else domain
    loopback = host in ("localhost", "[::1]") or re.fullmatch(r"127(?:\.[0-9]{1,3}){3}", host) is not None
    return f"{'http' if loopback else 'https'}://{domain}"


def repo_digest(image: dict, reference: Reference) -> str | None:
    """The digest the engine recorded for `image` (`docker image inspect`)
    in the reference's repository, or None (built here, or loaded)."""
    for each in image.get("RepoDigests") or []:
        name, _, digest = str(each).partition("@")
        if name == reference.name and _DIGEST.fullmatch(digest):
            return digest
    return None


class Registry:
    """One registry's answers for one repository, a token kept between requests."""

    def __init__(self, reference: Reference) -> None:
        self.reference = reference
        self.base = base_url(reference.domain)
        self._authorization: str | None = None

    def digest(self, tag: str) -> str | None:
        """The digest `tag` names now, or None when the registry has no such tag."""
        url = f"{self.base}/v2/{self.reference.path}/manifests/{urllib.parse.quote(tag)}"
        answer = self._ask(url, "HEAD", _MANIFESTS, missing_ok=True)
        if answer is None:
            return None
        digest = answer[0].get("Docker-Content-Digest") or ""
        if not _DIGEST.fullmatch(digest):
            raise self._error(f"it gave no digest for the tag {tag!r}")
        return digest

    def tags(self) -> list[str]:
        found: list[str] = []
        url: str | None = f"{self.base}/v2/{self.reference.path}/tags/list?n=1000"
        for _ in range(_MOST_TAG_PAGES):
            if url is None:
                break
            answer = self._ask(url, "GET", "application/json")
            assert answer is not None
            headers, body = answer
            try:
                listed = json.loads(body).get("tags") or []
            except (ValueError, AttributeError):
                raise self._error("its list of tags is not JSON") from None
            if not isinstance(listed, list):
                raise self._error("its list of tags is not a list")
            found += [tag for tag in listed if isinstance(tag, str)]
            url = _next_page(self.base, headers.get("Link") or "")
        if url is not None:
            raise self._error(f"it lists more than {_MOST_TAG_PAGES} pages of tags; dockervisor reads no more")
        return found

    def _ask(self, url: str, method: str, accept: str, missing_ok: bool = False):  # type: ignore[no-untyped-def]
        for attempt in range(2):
            headers = {"Accept": accept, "User-Agent": "dockervisor"}
            if self._authorization:
                headers["Authorization"] = self._authorization
            request = urllib.request.Request(url, method=method, headers=headers)
            try:
                with _OPENER.open(request, timeout=_TIMEOUT) as answer:
                    return answer.headers, answer.read(4 << 20) if method == "GET" else b""
            except urllib.error.HTTPError as error:
                if error.code == 401 and attempt == 0:
                    self._authorization = self._authorize(error.headers.get("WWW-Authenticate") or "")
                    continue
                if error.code == 404 and missing_ok:
                    return None
                if error.code in (401, 403):
                    raise self._error("it refused access (log in with `docker login`; credential helpers are not "
                                      "used by dockervisor's registry queries)") from None  # fmt: skip
                raise self._error(f"it answered {error.code} {error.reason}") from None
            except (OSError, ValueError, http.client.HTTPException) as error:  # a time-out, a refused
                # connection, an answer that is not HTTP
                raise self._error(f"it did not answer as a registry does ({getattr(error, 'reason', error)!s:.100})") from None
        raise self._error("it refused access")

    def _authorize(self, challenge: str) -> str:
        """The Authorization for a 401's challenge: Basic with stored
        credentials, or a Bearer token from the registry's token service."""
        scheme, _, params = challenge.partition(" ")
        basic = _stored_credentials(self.reference.domain)
        if scheme.lower() == "basic":
            if basic is None:
                raise self._error("it wants credentials and `docker login` stored none")
            return f"Basic {basic}"
        if scheme.lower() != "bearer":
            raise self._error(f"it asks for {scheme[:20]!r} authentication, which dockervisor does not speak")
        values = dict(re.findall(r'(\w+)="([^"]*)"', params))
        realm = values.pop("realm", "")
        secure = realm.startswith("https://") or (realm.startswith("http://") and self.base.startswith("http://"))
        if not secure:  # credentials go to a token service over HTTPS only (plain HTTP for a loopback registry)
            raise self._error(f"its token service {realm[:80]!r} is not an HTTPS address")
        values.setdefault("scope", f"repository:{self.reference.path}:pull")
        request = urllib.request.Request(f"{realm}?{urllib.parse.urlencode(values)}", headers={"User-Agent": "dockervisor"})
        if basic is not None:
            request.add_header("Authorization", f"Basic {basic}")
        try:
            with _OPENER.open(request, timeout=_TIMEOUT) as answer:
                document = json.loads(answer.read(1 << 20))
        except (OSError, ValueError, http.client.HTTPException) as error:
            raise self._error(f"its token service did not give a token ({getattr(error, 'reason', error)})") from None
        token = document.get("token") or document.get("access_token") if isinstance(document, dict) else None
        if not isinstance(token, str) or not token:
            raise self._error("its token service did not give a token")
        return f"Bearer {token}"

    def _error(self, what: str) -> DockervisorError:
        from dockervisor.core.output import printable

        # What the registry said is quoted: it must not drive a terminal.
        return DockervisorError(f"the registry {self.reference.domain} ({self.reference.path}): {printable(what)}")


def _next_page(base: str, link: str) -> str | None:
    """The next page of a paginated list: `Link: </v2/...?last=x&n=1000>; rel="next"`."""
    match = re.match(r'\s*<([^>]+)>\s*;\s*rel="?next"?', link)
    if not match or not match[1].startswith("/v2/"):
        return None
    return base + match[1]


def _stored_credentials(domain: str) -> str | None:
    """The base64 `user:password` `docker login` stored for `domain`, if any."""
    directory = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    try:
        with open(os.path.join(directory, "config.json"), "rb") as handle:
            auths = json.loads(handle.read(1 << 20)).get("auths") or {}
    except (OSError, ValueError, AttributeError):
        return None
    keys = ("https://index.docker.io/v1/", "index.docker.io", "docker.io") if domain == "docker.io" else (
        domain, f"https://{domain}", f"http://{domain}")  # fmt: skip
    for key in keys:
        entry = auths.get(key) if isinstance(auths, dict) else None
        auth = entry.get("auth") if isinstance(entry, dict) else None
        if isinstance(auth, str) and auth:
            try:
                base64.b64decode(auth, validate=True)
            except ValueError:
                return None
            return auth
    return None
