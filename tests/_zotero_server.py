"""A small server on 127.0.0.1 that answers like the Zotero web API (v3), for the tests.

Built from the API's documentation (zotero.org/support/dev/web_api/v3: basics, write
requests, file uploads), it keeps one library in memory and serves what replikit uses:

- ``GET <lib>/items/<key>`` (JSON, or ``format=bibtex``), ``GET <lib>/items?q=&qmode=``,
  ``GET <lib>/items/<key>/children``, ``GET /items/new?itemType=...``, ``GET /itemFields``;
- ``GET <lib>/collections`` and ``GET <lib>/collections/<key>/items/top``, a page of
  ``limit`` (at most ``max_page``, 100 as on the real API) from ``start``, with a
  ``Link: <...>; rel="next"`` header while more remain;
- ``POST <lib>/items`` (create, with ``Zotero-Write-Token``), ``PATCH <lib>/items/<key>``
  (with ``If-Unmodified-Since-Version``);
- the upload handshake: ``POST <lib>/items/<key>/file`` to authorise (``md5``, ``filename``,
  ``filesize``, ``mtime``, ``If-None-Match: *``; answered with ``{"exists": 1}`` or an upload
  URL, form parameters and an ``uploadKey``), a multipart ``POST`` of the file to that URL,
  and ``POST <lib>/items/<key>/file`` with ``upload=<uploadKey>`` to register it.

Every response carries ``Last-Modified-Version``. Requests need ``Authorization: Bearer
<key>`` when the server is given a key. ``faults`` injects failures into the next API
requests: an HTTP status with headers (e.g. 429 with ``Retry-After``), or ``"drop"`` to close
the connection without an answer.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

KEY_ALPHABET = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZ"
ITEM_FIELDS = ["title", "abstractNote", "publicationTitle", "volume", "issue", "pages",
               "date", "series", "journalAbbreviation", "language", "DOI", "ISSN",
               "shortTitle", "url", "accessDate", "archive", "rights", "extra",
               "proceedingsTitle", "conferenceName", "publisher"]
TEMPLATES = {
    "note": {"itemType": "note", "note": "", "tags": [], "collections": [], "relations": {}},
    "attachment/imported_file": {
        "itemType": "attachment", "linkMode": "imported_file", "title": "", "accessDate": "",
        "note": "", "tags": [], "collections": [], "relations": {}, "contentType": "",
        "charset": "", "filename": "", "md5": None, "mtime": None},
}


def new_key() -> str:
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(8))


class ZoteroLibrary:
    """The server's state: items, stored files, pending uploads, the library version."""

    def __init__(self, library_id: str, library_type: str = "user",
                 api_key: str | None = None) -> None:
        self.library_id = library_id
        self.library_type = library_type
        self.api_key = api_key
        self.version = 1
        self.items: dict[str, dict[str, Any]] = {}
        self.collections: dict[str, dict[str, Any]] = {}
        self.max_page = 100
        self.files: dict[str, bytes] = {}
        self.pending: dict[str, dict[str, Any]] = {}   # uploadKey -> what was authorised
        self.uploaded: dict[str, bytes] = {}           # storage key -> bytes received
        self.write_tokens: set[str] = set()
        self.faults: list[Any] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.lock = threading.Lock()

    @property
    def prefix(self) -> str:
        return f"/{self.library_type}s/{self.library_id}"

    def add_item(self, data: dict[str, Any], key: str | None = None) -> str:
        key = key or new_key()
        self.version += 1
        self.items[key] = {"key": key, "version": self.version,
                           "data": {"key": key, "version": self.version, "tags": [],
                                    "collections": [], "relations": {}, **data}}
        return key

    def add_collection(self, name: str, key: str | None = None) -> str:
        key = key or new_key()
        self.version += 1
        self.collections[key] = {"key": key, "version": self.version, "data": {
            "key": key, "version": self.version, "name": name, "parentCollection": False,
            "relations": {}}}
        return key

    def children(self, key: str) -> list[dict[str, Any]]:
        return [i for i in self.items.values() if i["data"].get("parentItem") == key]

    def envelope(self, item: dict[str, Any]) -> dict[str, Any]:
        """An item as the API returns it: key, version, library, links, meta, data."""
        return {"key": item["key"], "version": item["version"],
                "library": {"type": self.library_type, "id": int(self.library_id),
                            "name": "test library", "links": {}},
                "links": {}, "meta": {"numChildren": len(self.children(item["key"]))},
                "data": dict(item["data"])}


def to_bibtex(item: dict[str, Any]) -> str:
    """A BibTeX entry in the shape of Zotero's export (enough for a journal article)."""
    data = item["data"]
    kind = {"journalArticle": "article", "conferencePaper": "inproceedings"}.get(
        data["itemType"], "misc")
    authors = " and ".join(
        f"{c['lastName']}, {c['firstName']}" if "lastName" in c else c["name"]
        for c in data.get("creators", []))
    fields = {"title": data.get("title"), "author": authors,
              "journal": data.get("publicationTitle"), "volume": data.get("volume"),
              "number": data.get("issue"), "pages": data.get("pages"),
              "year": data.get("date", "")[:4], "doi": data.get("DOI"), "url": data.get("url")}
    body = ",\n".join(f"\t{k} = {{{v}}}" for k, v in fields.items() if v)
    last = (data.get("creators") or [{"lastName": "anon"}])[0].get("lastName", "anon")
    return f"\n@{kind}{{{last.lower()}_{data.get('date', '')[:4]},\n{body}\n}}\n"


class Handler(BaseHTTPRequestHandler):
    server: ZoteroServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    # -- plumbing
    @property
    def lib(self) -> ZoteroLibrary:
        return self.server.library

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def _send(self, status: int, payload: Any = None, content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        raw = b"" if payload is None else (
            payload if isinstance(payload, bytes) else
            (payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()))
        self.send_response(status)
        if raw:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Last-Modified-Version", str(self.lib.version))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def _fault(self) -> bool:
        """Serve an injected failure instead of the request, if one is queued."""
        with self.lib.lock:
            fault = self.lib.faults.pop(0) if self.lib.faults else None
        if fault is None:
            return False
        self._body()
        if fault == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return True
        status, headers = fault
        self._send(status, f"injected {status}", "text/plain", headers)
        return True

    def _authorised(self) -> bool:
        if self.lib.api_key is None:
            return True
        given = self.headers.get("Authorization", "").removeprefix("Bearer ").strip() \
            or self.headers.get("Zotero-API-Key", "")
        if given == self.lib.api_key:
            return True
        self._body()
        self._send(403, "Forbidden", "text/plain")
        return False

    def _route(self, method: str) -> None:
        url = urlparse(self.path)
        self.lib.requests.append((method, self.path, dict(self.headers)))
        if url.path.startswith("/storage-upload"):
            return self._storage_upload()
        if self._fault() or not self._authorised():
            return None
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = url.path
        if path in ("/items/new", "/itemFields"):
            return self._templates(path, query)
        if path.startswith(self.lib.prefix + "/collections"):
            with self.lib.lock:
                return self._collections(path[len(self.lib.prefix):].strip("/").split("/"),
                                         query)
        if not path.startswith(self.lib.prefix + "/items"):
            return self._send(404, "Not found", "text/plain")
        parts = path[len(self.lib.prefix):].strip("/").split("/")  # items[/KEY[/children]]
        handler = {
            ("GET", 1): lambda: self._list(query),
            ("GET", 2): lambda: self._get(parts[1], query),
            ("GET", 3): lambda: self._children(parts[1]),
            ("POST", 1): self._create,
            ("PATCH", 2): lambda: self._patch(parts[1]),
            ("POST", 3): lambda: self._file(parts[1]),
        }.get((method, len(parts)))
        if handler is None:
            return self._send(405, "Method not allowed", "text/plain")
        with self.lib.lock:
            return handler()

    def do_GET(self) -> None:  # noqa: N802 (the http.server naming)
        self._route("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._route("POST")

    def do_PATCH(self) -> None:  # noqa: N802
        self._route("PATCH")

    # -- reads
    def _templates(self, path: str, query: dict[str, str]) -> None:
        if path == "/itemFields":
            return self._send(200, [{"field": f, "localized": f} for f in ITEM_FIELDS])
        name = query.get("itemType", "")
        if name == "attachment":
            name += "/" + query.get("linkMode", "")
        if name not in TEMPLATES:
            return self._send(400, f"Invalid item type {name!r}", "text/plain")
        return self._send(200, TEMPLATES[name])

    def _list(self, query: dict[str, str]) -> None:
        needle = query.get("q", "").lower()
        found = []
        for item in self.lib.items.values():
            data = item["data"]
            if data["itemType"] in ("note", "attachment"):
                continue  # quick search lists top-level items here
            haystack = json.dumps(data).lower() if query.get("qmode") == "everything" \
                else (data.get("title", "") + json.dumps(data.get("creators", []))).lower()
            if needle in haystack:
                found.append(self.lib.envelope(item))
        if query.get("format") == "bibtex":
            return self._send(200, "".join(to_bibtex(i) for i in found), "application/x-bibtex")
        return self._send(200, found, headers={"Total-Results": str(len(found))})

    def _get(self, key: str, query: dict[str, str]) -> None:
        item = self.lib.items.get(key)
        if item is None:
            return self._send(404, "Not found", "text/plain")
        if query.get("format") == "bibtex":
            return self._send(200, to_bibtex(item), "application/x-bibtex")
        return self._send(200, self.lib.envelope(item))

    def _children(self, key: str) -> None:
        if key not in self.lib.items:
            return self._send(404, "Not found", "text/plain")
        kids = [self.lib.envelope(i) for i in self.lib.children(key)]
        return self._send(200, kids, headers={"Total-Results": str(len(kids))})

    def _collections(self, parts: list[str], query: dict[str, str]) -> None:
        """``collections`` or ``collections/<KEY>/items/top``, one page at a time."""
        if self.command != "GET" or len(parts) not in (1, 4) or parts[2:] not in (
                [], ["items", "top"]):
            return self._send(405, "Method not allowed", "text/plain")
        if len(parts) == 1:
            found = [{**c, "library": {}, "links": {}, "meta": {"numCollections": 0}}
                     for c in self.lib.collections.values()]
        elif parts[1] not in self.lib.collections:
            return self._send(404, "Collection not found", "text/plain")
        else:
            found = [self.lib.envelope(i) for i in self.lib.items.values()
                     if parts[1] in i["data"].get("collections", [])
                     and not i["data"].get("parentItem")]
        start = int(query.get("start", 0))
        limit = min(int(query.get("limit", 25)), self.lib.max_page)
        headers = {"Total-Results": str(len(found))}
        if start + limit < len(found):
            following = {**query, "start": str(start + limit), "limit": str(limit)}
            link = f"{self.server.url}{urlparse(self.path).path}?{urlencode(following)}"
            headers["Link"] = f'<{link}>; rel="next"'
        return self._send(200, found[start:start + limit], headers=headers)

    # -- writes
    def _create(self) -> None:
        token = self.headers.get("Zotero-Write-Token")
        if token in self.lib.write_tokens:
            self._body()
            return self._send(412, "Write token already used", "text/plain")
        if token:
            self.lib.write_tokens.add(token)
        objects = json.loads(self._body())
        result: dict[str, Any] = {"successful": {}, "success": {}, "unchanged": {},
                                  "failed": {}}
        for index, obj in enumerate(objects):
            problem = self._invalid(obj)
            if problem:
                result["failed"][str(index)] = {"key": obj.get("key", ""), "code": 400,
                                                "message": problem}
                continue
            key = self.lib.add_item(obj)
            result["success"][str(index)] = key
            result["successful"][str(index)] = self.lib.envelope(self.lib.items[key])
        return self._send(200, result)

    def _invalid(self, obj: dict[str, Any]) -> str | None:
        kind = obj.get("itemType")
        if kind not in ("note", "attachment", "journalArticle", "conferencePaper", "book"):
            return f"Invalid itemType {kind!r}"
        parent = obj.get("parentItem")
        if parent and parent not in self.lib.items:
            return f"Parent item {parent} not found"
        if kind == "attachment" and "/" in (obj.get("filename") or ""):
            return "Stored-file filename cannot contain a directory path"
        return None

    def _patch(self, key: str) -> None:
        item = self.lib.items.get(key)
        changes = json.loads(self._body())
        if item is None:
            return self._send(404, "Not found", "text/plain")
        expected = self.headers.get("If-Unmodified-Since-Version")
        if expected is None:
            return self._send(428, "If-Unmodified-Since-Version not provided", "text/plain")
        if int(expected) != item["version"]:
            return self._send(412, f"Item has been modified since version {expected}",
                              "text/plain")
        self.lib.version += 1
        item["data"].update({k: v for k, v in changes.items() if k not in ("key", "version")})
        item["version"] = item["data"]["version"] = self.lib.version
        return self._send(204)

    # -- the upload handshake
    def _file(self, key: str) -> None:
        item = self.lib.items.get(key)
        form = {k: v[0] for k, v in parse_qs(self._body().decode(), keep_blank_values=True)
                .items()}
        if item is None or item["data"].get("linkMode") != "imported_file":
            return self._send(400, "Not a stored-file attachment", "text/plain")
        if_match, if_none = self.headers.get("If-Match"), self.headers.get("If-None-Match")
        if if_none != "*" and not if_match:
            return self._send(428, "If-Match/If-None-Match header not provided", "text/plain")
        current = self.lib.files.get(key)
        current_md5 = hashlib.md5(current).hexdigest() if current is not None else None  # noqa: S324 (the API's hash)
        if if_match and if_match != current_md5:
            return self._send(412, "If-Match does not match the stored file", "text/plain")
        if "upload" in form:
            if if_none == "*" and current is not None:
                return self._send(412, "If-None-Match: * set but file exists", "text/plain")
            return self._register(key, item, form["upload"])
        if current_md5 is not None and current_md5 == form.get("md5"):
            return self._send(200, {"exists": 1})
        if if_none == "*" and current is not None:
            return self._send(412, "If-None-Match: * set but file exists", "text/plain")
        return self._authorise(key, form)

    def _authorise(self, key: str, form: dict[str, str]) -> None:
        missing = [f for f in ("md5", "filename", "filesize", "mtime") if not form.get(f)]
        if missing:
            return self._send(400, f"Missing {', '.join(missing)}", "text/plain")
        upload_key = secrets.token_hex(16)
        storage_key = f"{form['md5']}/{form['filename']}"
        self.lib.pending[upload_key] = {"item": key, "storage_key": storage_key, **form}
        url = f"http://127.0.0.1:{self.server.server_port}/storage-upload"
        if form.get("params") == "1":
            params = {"key": storage_key, "acl": "private", "Content-MD5": form["md5"],
                      "policy": secrets.token_hex(8)}
            return self._send(200, {"url": url, "params": params, "uploadKey": upload_key})
        return self._send(400, "this server only supports params=1", "text/plain")

    def _storage_upload(self) -> None:
        """The storage service's side: a multipart form whose last field is the file."""
        body = self._body()
        raw = b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        fields = {part.get_param("name", header="content-disposition"):
                  part.get_payload(decode=True) for part in message.iter_parts()}
        storage_key = (fields.get("key") or b"").decode()
        pending = next((p for p in self.lib.pending.values()
                        if p["storage_key"] == storage_key), None)
        content = fields.get("file")
        if pending is None or content is None:
            return self._send(400, "unknown key or no file", "text/plain")
        if hashlib.md5(content).hexdigest() != pending["md5"]:  # noqa: S324
            return self._send(400, "Content-MD5 mismatch", "text/plain")
        self.lib.uploaded[storage_key] = content
        return self._send(201)

    def _register(self, key: str, item: dict[str, Any], upload_key: str) -> None:
        pending = self.lib.pending.pop(upload_key, None)
        if pending is None or pending["item"] != key:
            return self._send(400, "Invalid upload key", "text/plain")
        content = self.lib.uploaded.pop(pending["storage_key"], None)
        if content is None:
            return self._send(400, "File was not uploaded", "text/plain")
        self.lib.files[key] = content
        self.lib.version += 1
        item["data"].update(md5=pending["md5"], filename=pending["filename"],
                            mtime=int(pending["mtime"]),
                            contentType=pending.get("contentType", ""))
        item["version"] = item["data"]["version"] = self.lib.version
        return self._send(204)


class ZoteroServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, library: ZoteroLibrary) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.library = library
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def __enter__(self) -> ZoteroServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
