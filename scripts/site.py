#!/usr/bin/env python3
"""site.py DIR OUT.bin [--max-file-mb N]: pack a directory tree into a site image (net/site.h).

Every regular file under DIR, at any depth, is served at its path; a directory with an
index.html is also served at "dir/" (and "dir" redirects there); DIR/404.html, when there is
one, answers unknown paths. Each file gets its Content-Type from its extension, a strong ETag
(a hash of its bytes), its Last-Modified time, and, when its type compresses and the result is
smaller, gzip and Brotli forms made here with Debian's gzip and brotli.

The image is read in place by net/site.c: a header, a table of fixed-size entries, an
open-addressing hash of the decoded paths (FNV-1a 64, linear probing, the longest probe recorded),
the strings, then the bytes of every form. All integers are little-endian.

What cannot be packed stops the build with the path and the reason: a name with control bytes
or not UTF-8, a symlink leading outside DIR, a device, FIFO or socket, a file over the limit,
a path too long to be requested.
"""
import concurrent.futures
import email.utils
import hashlib
import os
import shutil
import stat
import struct
import subprocess
import sys
import urllib.parse

MAGIC = b"PLXSITE1"
HDR = struct.Struct("<8sIIIIQQQ16x")                 # 64 bytes: net/site.h struct site_hdr
VAR = struct.Struct("<QQ24s")                         # off, len, etag (NUL-terminated)
ENTRY = struct.Struct("<QQIHHIHHI4x32s" + "QQ24s" * 3)  # 192 bytes: struct site_file
F_REDIRECT = 1                                        # "dir" -> "dir/": loc is the Location
MAX_PATH = 1024                                       # decoded path bytes (a request line is 2 KiB)
MAX_LOCATION = 512                                    # a redirect's Location, encoded
FNV_OFFSET, FNV_PRIME = 0xcbf29ce484222325, 0x100000001b3

# The common web types; anything else is application/octet-stream (as nginx's mime.types).
TYPES = {
    "html": "text/html", "htm": "text/html", "css": "text/css", "js": "text/javascript",
    "mjs": "text/javascript", "json": "application/json", "map": "application/json",
    "webmanifest": "application/manifest+json", "xml": "application/xml", "txt": "text/plain",
    "md": "text/markdown", "csv": "text/csv", "svg": "image/svg+xml", "png": "image/png",
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
    "avif": "image/avif", "ico": "image/x-icon", "bmp": "image/bmp", "woff": "font/woff",
    "woff2": "font/woff2", "ttf": "font/ttf", "otf": "font/otf", "eot": "application/vnd.ms-fontobject",
    "pdf": "application/pdf", "wasm": "application/wasm", "zip": "application/zip",
    "gz": "application/gzip", "tar": "application/x-tar", "mp4": "video/mp4", "webm": "video/webm",
    "mp3": "audio/mpeg", "ogg": "audio/ogg", "wav": "audio/wav", "atom": "application/atom+xml",
    "rss": "application/rss+xml", "ics": "text/calendar", "yaml": "application/yaml",
    "yml": "application/yaml", "toml": "application/toml", "epub": "application/epub+zip",
}
COMPRESSIBLE = {"text/html", "text/css", "text/javascript", "application/json", "application/xml",
                "text/plain", "text/markdown", "text/csv", "image/svg+xml", "image/x-icon", "image/bmp",
                "font/ttf", "font/otf", "application/vnd.ms-fontobject", "application/wasm",
                "application/manifest+json", "application/atom+xml", "application/rss+xml",
                "text/calendar", "application/yaml", "application/toml"}
MIN_COMPRESS = 64       # smaller files never gain from it


class PackError(Exception):
    pass


def fnv1a(b):
    h = FNV_OFFSET
    for x in b:
        h = ((h ^ x) * FNV_PRIME) & 0xffffffffffffffff
    return h


def content_type(name):
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    t = TYPES.get(ext, "application/octet-stream")
    return t + "; charset=utf-8" if t.startswith("text/") or t in ("application/json",
                                                                     "application/manifest+json") else t


def check_name(rel, name):
    try:
        s = os.fsencode(name).decode("utf-8")
    except UnicodeDecodeError:
        raise PackError(f"{rel}: the name is not UTF-8, so no URL can name it")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in s):
        raise PackError(f"{rel!r}: the name holds a control character, which no URL path may carry")
    return s


def walk(root):
    """(url path, file path, is_dir) for every regular file and directory under root."""
    real_root = os.path.realpath(root)
    out = []
    seen = set()

    def visit(d, url):
        key = os.stat(d).st_ino, os.stat(d).st_dev
        if key in seen:
            raise PackError(f"{d}: a symlink loop")
        seen.add(key)
        out.append((url, d, True))
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            rel = os.path.relpath(p, root)
            u = url + check_name(rel, name)
            if os.path.islink(p):
                t = os.path.realpath(p)
                if os.path.commonpath([t, real_root]) != real_root:
                    raise PackError(f"{rel}: a symlink to {t}, outside {root}")
                if not os.path.exists(t):
                    raise PackError(f"{rel}: a symlink to {t}, which does not exist")
            st = os.stat(p)
            if stat.S_ISDIR(st.st_mode):
                visit(p, u + "/")
            elif stat.S_ISREG(st.st_mode):
                out.append((u, p, False))
            else:
                raise PackError(f"{rel}: not a regular file or directory")
        seen.discard(key)
    visit(root, "/")
    return out


def compress(tool, data):
    r = subprocess.run(tool, input=data, stdout=subprocess.PIPE, check=True)
    return r.stdout


def etag(data):
    return b'"' + hashlib.sha256(data).hexdigest()[:20].encode() + b'"'


def pack(root, max_file):
    for tool in ("gzip", "brotli"):
        if not shutil.which(tool):
            raise PackError(f"{tool} not found: install Debian's package {tool} (make deps does)")
    if not os.path.isdir(root):
        raise PackError(f"{root}: not a directory")
    items = walk(root)
    files = [(u, p) for u, p, d in items if not d]
    for u, p in files:
        size = os.path.getsize(p)
        if size > max_file:
            raise PackError(f"{os.path.relpath(p, root)}: {size} bytes, over the limit of {max_file} "
                            f"(POLLUX_SITE_MAX_FILE_MB)")
        if len(u.encode()) > MAX_PATH:
            raise PackError(f"{os.path.relpath(p, root)}: its path is over {MAX_PATH} bytes")

    def forms(up):
        u, p = up
        with open(p, "rb") as f:
            data = f.read()
        t = content_type(u.rsplit("/", 1)[-1])
        out = [data, None, None]
        if t.split(";")[0] in COMPRESSIBLE and len(data) >= MIN_COMPRESS:
            for i, tool in ((1, ["gzip", "-9", "-n", "-c"]), (2, ["brotli", "-q", "11", "-c"])):
                z = compress(tool, data)
                if len(z) < len(data):
                    out[i] = z
        return u, p, t, int(os.stat(p).st_mtime), out
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        packed = list(ex.map(forms, files))

    strings = bytearray()
    string_at = {}

    def string(b):
        if b not in string_at:
            string_at[b] = len(strings)
            strings.extend(b)
        return string_at[b]
    blobs = []          # (bytes) in data order
    data_size = 0
    entries = []        # (path bytes, flags, type, loc, mtime, [(data index or None, etag)])
    by_path = {}
    for u, p, t, mtime, fs in packed:
        vs = []
        for z in fs:
            if z is None:
                vs.append(None)
            else:
                blobs.append(z)
                vs.append((len(blobs) - 1, etag(z)))
        by_path[u] = len(entries)
        entries.append((u.encode(), 0, t.encode(), b"", mtime, vs))
    for u, p, d in items:
        if not d or u + "index.html" not in by_path:
            continue
        e = entries[by_path[u + "index.html"]]
        entries.append((u.encode(),) + e[1:])
        if u != "/":
            seg = u.rstrip("/").rsplit("/", 1)[-1]
            loc = urllib.parse.quote(seg, safe="!$&'()*+,;=:@") + "/"
            if len(loc) > MAX_LOCATION:
                raise PackError(f"{os.path.relpath(p, root)}: the directory's name is too long to redirect to")
            entries.append((u.rstrip("/").encode(), F_REDIRECT, b"", loc.encode(), 0, [None] * 3))
    notfound = by_path.get("/404.html", -1) + 1

    n = len(entries)
    nb = 16
    while nb < 4 * n:
        nb *= 2
    buckets = [0] * nb
    max_probe = 0
    for i, e in enumerate(entries):
        h = fnv1a(e[0])
        k = 0
        while buckets[(h + k) & (nb - 1)]:
            k += 1
        buckets[(h + k) & (nb - 1)] = i + 1
        max_probe = max(max_probe, k + 1)

    files_off = HDR.size
    buckets_off = files_off + n * ENTRY.size
    strings_base = buckets_off + nb * 4
    recs = []
    for path, flags, t, loc, mtime, vs in entries:
        recs.append((path, flags, t, loc, mtime, vs, string(path), string(t), string(loc)))
    data_off = (strings_base + len(strings) + 63) & ~63
    offs = []
    for b in blobs:
        offs.append(data_off + data_size)
        data_size += (len(b) + 7) & ~7
    total = data_off + data_size

    out = bytearray(HDR.pack(MAGIC, n, nb, max_probe, notfound, files_off, buckets_off, total))
    for path, flags, t, loc, mtime, vs, po, to, lo in recs:
        lm = b"" if flags & F_REDIRECT else email.utils.formatdate(mtime, usegmt=True).encode()
        fields = []
        for v in vs:
            fields += [offs[v[0]], len(blobs[v[0]]), v[1]] if v else [0, 0, b""]
        out += ENTRY.pack(fnv1a(path), mtime, strings_base + po, len(path), flags, strings_base + to, len(t),
                          len(loc), strings_base + lo, lm, *fields)
    out += struct.pack(f"<{nb}I", *buckets)
    out += strings
    out += bytes(data_off - len(out))
    for b in blobs:
        out += b + bytes(((len(b) + 7) & ~7) - len(b))
    assert len(out) == total
    stats = (len(files), sum(len(f[4][0]) for f in packed), sum(1 for f in packed if f[4][1]),
             sum(1 for f in packed if f[4][2]))
    return bytes(out), stats


def main():
    args = sys.argv[1:]
    max_mb = 256
    if "--max-file-mb" in args:
        i = args.index("--max-file-mb")
        max_mb = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__.strip().splitlines()[0])
    root, out = args
    # make runs this every time (file names cannot all be make prerequisites): the tree's listing
    # (names, sizes, times), this script and the limit decide whether anything is packed again.
    key = hashlib.sha256(open(__file__, "rb").read() + str(max_mb).encode())
    for d, dirs, fs in os.walk(root, followlinks=True):
        dirs.sort()
        for name in sorted(fs) + dirs:
            p = os.path.join(d, name)
            try:
                st = os.stat(p)
            except OSError:
                st = os.lstat(p)
            key.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_mode}\0{os.path.islink(p) and os.readlink(p)}\n"
                       .encode(errors="surrogateescape"))
    key = key.hexdigest()
    try:
        with open(out + ".key") as f:
            if f.read() == key and os.path.exists(out):
                return
    except OSError:
        pass
    try:
        blob, (nf, nbytes, ngz, nbr) = pack(root, max_mb << 20)
    except PackError as e:
        sys.exit(f"site: error: {e}")
    # Rewrite only when the bytes change, so an unchanged site relinks nothing.
    same = False
    try:
        with open(out, "rb") as f:
            same = f.read() == blob
    except OSError:
        pass
    if same:
        open(out + ".key", "w").write(key)
        return
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.replace(tmp, out)
    open(out + ".key", "w").write(key)
    print(f"  SITE    {root}: {nf} files, {nbytes} bytes, {ngz} gzip and {nbr} br forms, image {len(blob)} bytes")


if __name__ == "__main__":
    main()
