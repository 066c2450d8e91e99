"""The ``url`` source kind: a file downloaded with pooch (``doi:`` URLs through its DOI support).

``download_sha256`` checks the download itself (an archive, say); ``member`` and
``strip_header`` take one file out of it, which is then checked against the artifact's hash.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pooch
import requests

from replikit.fetch.job import FetchJob, Unreachable, mismatch, url_file_name
from replikit.fetch.records import describe_source
from replikit.study import UrlSource


def fetch_url(job: FetchJob, source: UrlSource, expected: str | None) -> dict[str, Any]:
    with job.cache.scratch() as work:
        archive = job.cache.lookup(source.download_sha256)
        if archive is None:
            archive = _download(source.url, work)
            if source.download_sha256:
                got = pooch.file_hash(str(archive), alg="sha256")
                if got != source.download_sha256:
                    archive.unlink()
                    raise mismatch(f"download {source.url}", source.download_sha256, got)
                archive = job.cache.store(archive, got, {"source": describe_source(source)})
        if expected is None and not source.member and source.download_sha256:
            expected = source.download_sha256
        return job.take_member(archive, source, work, expected)


def _download(url: str, folder: Path) -> Path:
    """Download ``url`` into ``folder`` with pooch; unreachable hosts raise :class:`Unreachable`."""
    progress = sys.stderr.isatty()
    if url.startswith("doi:"):
        downloader = pooch.DOIDownloader(progressbar=progress, timeout=60)
    else:
        downloader = pooch.HTTPDownloader(progressbar=progress, timeout=60)
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)  # pooch's "use this hash" hint does not apply here
    try:
        path = pooch.retrieve(url, known_hash=None, fname=url_file_name(url), path=folder,
                              downloader=downloader)
    except requests.exceptions.RequestException as exc:
        reason = _network_reason(exc)
        if reason.startswith("truncated"):
            raise Unreachable(f"download from {_host(url)} {reason}") from exc
        raise Unreachable(f"cannot reach {_host(url)}: {reason}") from exc
    except ValueError as exc:  # pooch's DOI resolution reports a missing archive or file
        if not url.startswith("doi:"):
            raise
        raise Unreachable(f"cannot resolve {url}: {exc}") from exc
    finally:
        logger.setLevel(level)
    return Path(path)


def _network_reason(exc: requests.exceptions.RequestException) -> str:
    truncated = _truncation(exc)
    if truncated:
        return truncated
    text = str(exc)
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason}"
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    if "Name or service not known" in text or "resolution" in text or "resolve" in text:
        return "the host name does not resolve: offline?"
    if "refused" in text:
        return "connection refused"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "no connection: offline?"
    return type(exc).__name__


def _truncation(exc: BaseException) -> str | None:
    """"truncated: got N of M bytes" when the server closed before its Content-Length."""
    seen: BaseException | None = exc
    while seen is not None:
        candidates = [seen, *(a for a in seen.args if isinstance(a, BaseException))]
        for item in candidates:
            partial, more = getattr(item, "partial", None), getattr(item, "expected", None)
            if isinstance(partial, int) and isinstance(more, int):
                return f"truncated: got {partial} of {partial + more} bytes"
        seen = seen.__cause__ or seen.__context__
    return None


def _host(url: str) -> str:
    if url.startswith("doi:"):
        return f"the DOI resolver for {url}"
    return urlparse(url).hostname or url
