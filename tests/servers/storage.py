#!/usr/bin/env python3
"""Stdlib-only helper for the local test storage servers (see README.md).

Talks to fake-gcs-server (JSON API, no auth needed) and Azurite (Blob REST
API, SharedKey auth), and to SeaweedFS S3 (SigV4, path-style).
Endpoints and credentials come from the FLINK_CHK_TEST_* variables that
start.sh writes to $RUN_DIR/env.

Usage:
  storage.py mkbucket s3|gcs|azure            create the test bucket/container (idempotent)
  storage.py upload   s3|gcs|azure DIR PREFIX [-j N]
  storage.py list     s3|gcs|azure [PREFIX]   print "size<TAB>key" per object, sorted by key
"""

from __future__ import annotations

import argparse
import base64
import datetime as _dt
import hashlib
import hmac
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor, as_completed

AZURE_API_VERSION = "2021-08-06"


def env(name: str) -> str:
    v = os.environ.get(name)
    if not v:
        sys.exit(f"storage.py: {name} is not set (source $RUN_DIR/env from start.sh)")
    return v


class Http:
    """One keep-alive connection per thread to one http:// endpoint."""

    def __init__(self, endpoint: str):
        u = urllib.parse.urlsplit(endpoint)
        if u.scheme != "http":
            raise SystemExit(f"storage.py: only http:// endpoints are supported: {endpoint}")
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or 80
        self.base_path = u.path.rstrip("/")
        self.netloc = u.netloc
        self._local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection(self.host, self.port, timeout=60)
            self._local.conn = c
        return c

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        for attempt in range(4):
            c = self._conn()
            try:
                c.request(method, path, body=body, headers=headers or {})
                r = c.getresponse()
                data = r.read()
                if r.status in (500, 502, 503) and attempt < 3:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                return r.status, data
            except (http.client.HTTPException, OSError):
                c.close()
                self._local.conn = None
                if attempt == 3:
                    raise
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")


def check(status: int, data: bytes, what: str, ok=(200, 201)) -> None:
    if status not in ok:
        raise RuntimeError(f"{what}: HTTP {status}: {data[:500].decode('utf-8', 'replace')}")


# ---------------------------------------------------------------- GCS -------
class Gcs:
    def __init__(self):
        self.http = Http(env("FLINK_CHK_TEST_GCS_ENDPOINT"))
        self.bucket = env("FLINK_CHK_TEST_GCS_BUCKET")

    def mkbucket(self) -> None:
        st, data = self.http.request(
            "POST", "/storage/v1/b", json.dumps({"name": self.bucket}).encode(),
            {"Content-Type": "application/json"})
        check(st, data, f"create gcs bucket {self.bucket}", ok=(200, 201, 409))

    def put(self, key: str, body: bytes) -> None:
        q = urllib.parse.urlencode({"uploadType": "media", "name": key})
        st, data = self.http.request(
            "POST", f"/upload/storage/v1/b/{self.bucket}/o?{q}", body,
            {"Content-Type": "application/octet-stream"})
        check(st, data, f"gcs upload {key}")

    def list(self, prefix: str):
        token = None
        while True:
            q = {"prefix": prefix, "maxResults": "1000"}
            if token:
                q["pageToken"] = token
            st, data = self.http.request(
                "GET", f"/storage/v1/b/{self.bucket}/o?{urllib.parse.urlencode(q)}")
            check(st, data, "gcs list")
            doc = json.loads(data)
            for it in doc.get("items", []):
                yield it["name"], int(it["size"])
            token = doc.get("nextPageToken")
            if not token:
                return


# ---------------------------------------------------------------- Azure -----
class Azure:
    def __init__(self):
        self.http = Http(env("FLINK_CHK_TEST_AZURE_ENDPOINT"))  # http://h:p/devstoreaccount1
        self.account = env("FLINK_CHK_TEST_AZURE_ACCOUNT")
        self.key = base64.b64decode(env("FLINK_CHK_TEST_AZURE_KEY"))
        self.container = env("FLINK_CHK_TEST_AZURE_CONTAINER")

    def _signed(self, method: str, path: str, query: dict[str, str],
                body: bytes | None = None, extra: dict[str, str] | None = None):
        """path: URL-encoded path below the account, e.g. /container/a%20b."""
        full_path = self.http.base_path + path
        headers = {
            "x-ms-date": _dt.datetime.now(_dt.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT"),
            "x-ms-version": AZURE_API_VERSION,
        }
        headers.update(extra or {})
        length = len(body) if body else 0
        ctype = headers.get("Content-Type", "")
        canon_headers = "".join(
            f"{k.lower()}:{v.strip()}\n"
            for k, v in sorted(headers.items(), key=lambda kv: kv[0].lower())
            if k.lower().startswith("x-ms-"))
        canon_res = f"/{self.account}{full_path}" + "".join(
            f"\n{k.lower()}:{v}" for k, v in sorted(query.items(), key=lambda kv: kv[0].lower()))
        to_sign = "\n".join([
            method, "", "", str(length) if length else "", "", ctype,
            "", "", "", "", "", "",
        ]) + "\n" + canon_headers + canon_res
        sig = base64.b64encode(hmac.new(self.key, to_sign.encode(), hashlib.sha256).digest()).decode()
        headers["Authorization"] = f"SharedKey {self.account}:{sig}"
        url = full_path + ("?" + urllib.parse.urlencode(query) if query else "")
        return self.http.request(method, url, body if body is not None else None, headers)

    def mkbucket(self) -> None:
        st, data = self._signed("PUT", f"/{self.container}", {"restype": "container"}, b"")
        check(st, data, f"create azure container {self.container}", ok=(201, 409))

    def put(self, key: str, body: bytes) -> None:
        path = f"/{self.container}/" + urllib.parse.quote(key, safe="/")
        st, data = self._signed("PUT", path, {}, body, {
            "x-ms-blob-type": "BlockBlob",
            "Content-Type": "application/octet-stream",
        })
        check(st, data, f"azure upload {key}")

    def list(self, prefix: str):
        marker = ""
        while True:
            q = {"restype": "container", "comp": "list", "maxresults": "5000"}
            if prefix:
                q["prefix"] = prefix
            if marker:
                q["marker"] = marker
            st, data = self._signed("GET", f"/{self.container}", q)
            check(st, data, "azure list")
            root = ET.fromstring(data)
            for b in root.iter("Blob"):
                yield b.findtext("Name"), int(b.findtext("Properties/Content-Length") or 0)
            marker = root.findtext("NextMarker") or ""
            if not marker:
                return


# ---------------------------------------------------------------- S3 --------
class S3:
    """Minimal SigV4 client, path-style (SeaweedFS has no virtual-host names here)."""

    def __init__(self):
        self.http = Http(env("FLINK_CHK_TEST_S3_ENDPOINT"))
        self.bucket = env("FLINK_CHK_TEST_S3_BUCKET")
        self.ak = env("FLINK_CHK_TEST_S3_ACCESS_KEY")
        self.sk = env("FLINK_CHK_TEST_S3_SECRET_KEY")
        self.region = env("FLINK_CHK_TEST_S3_REGION")

    def _signed(self, method: str, path: str, query: dict[str, str], body: bytes = b""):
        now = _dt.datetime.now(_dt.timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = now.strftime("%Y%m%d")
        payload = hashlib.sha256(body).hexdigest()
        headers = {"host": self.http.netloc, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
        cq = "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
                      for k, v in sorted(query.items()))
        signed = ";".join(sorted(headers))
        creq = "\n".join([method, path, cq,
                          "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)),
                          signed, payload])
        scope = f"{day}/{self.region}/s3/aws4_request"
        sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
        k = ("AWS4" + self.sk).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.ak}/{scope}, "
                                    f"SignedHeaders={signed}, Signature={sig}")
        del headers["host"]
        return self.http.request(method, path + ("?" + cq if cq else ""), body, headers)

    def mkbucket(self) -> None:
        st, data = self._signed("PUT", f"/{self.bucket}", {})
        # 409 BucketAlreadyOwnedByYou / BucketAlreadyExists
        check(st, data, f"create s3 bucket {self.bucket}", ok=(200, 409))

    def put(self, key: str, body: bytes) -> None:
        st, data = self._signed("PUT", f"/{self.bucket}/" + urllib.parse.quote(key, safe="/-_.~"),
                                {}, body)
        check(st, data, f"s3 upload {key}")

    def list(self, prefix: str):
        token = ""
        ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
        while True:
            q = {"list-type": "2", "prefix": prefix, "max-keys": "1000"}
            if token:
                q["continuation-token"] = token
            st, data = self._signed("GET", f"/{self.bucket}", q)
            check(st, data, "s3 list")
            root = ET.fromstring(data)
            for c in root.iter(f"{ns}Contents"):
                yield c.findtext(f"{ns}Key"), int(c.findtext(f"{ns}Size") or 0)
            if root.findtext(f"{ns}IsTruncated") != "true":
                return
            token = root.findtext(f"{ns}NextContinuationToken") or ""


KINDS = {"s3": S3, "gcs": Gcs, "azure": Azure}


def upload(client, local_dir: str, prefix: str, jobs: int) -> None:
    files = []
    for root, _dirs, names in os.walk(local_dir):
        for n in names:
            p = os.path.join(root, n)
            if os.path.isfile(p):
                files.append(p)
    files.sort()
    prefix = prefix.strip("/")

    def key_of(p: str) -> str:
        rel = os.path.relpath(p, local_dir).replace(os.sep, "/")
        return f"{prefix}/{rel}" if prefix else rel

    def one(p: str) -> int:
        with open(p, "rb") as f:
            body = f.read()
        client.put(key_of(p), body)
        return len(body)

    t0 = time.monotonic()
    total = 0
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        futs = [ex.submit(one, p) for p in files]
        for fut in as_completed(futs):
            total += fut.result()
    dt = time.monotonic() - t0
    rate = len(files) / dt if dt > 0 else float("inf")
    print(f"uploaded {len(files)} files ({total} bytes) in {dt:.2f}s ({rate:.0f} files/s)",
          file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("mkbucket")
    p.add_argument("kind", choices=KINDS)
    p = sub.add_parser("upload")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("dir")
    p.add_argument("prefix")
    p.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("FLINK_CHK_UPLOAD_JOBS", "16")))
    p = sub.add_parser("list")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("prefix", nargs="?", default="")
    a = ap.parse_args()
    client = KINDS[a.kind]()
    if a.cmd == "mkbucket":
        client.mkbucket()
    elif a.cmd == "upload":
        if not os.path.isdir(a.dir):
            sys.exit(f"storage.py: not a directory: {a.dir}")
        upload(client, a.dir, a.prefix, a.jobs)
    else:
        for key, size in sorted(client.list(a.prefix)):
            print(f"{size}\t{key}")


if __name__ == "__main__":
    main()
