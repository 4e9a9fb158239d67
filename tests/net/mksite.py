#!/usr/bin/env python3
"""mksite.py DIR: write the test site tests/net/site.py serves and checks: nested directories with
and without an index, a 20 MB binary file, text that compresses, names that need percent-encoding,
an empty file, a 404 page, and an index.html linking every file (so wget --mirror finds them all).

The content is the same at every run and every file's time is fixed, so make repacks the site
only when this script changes.
"""
import os
import random
import struct
import sys
import urllib.parse
import zlib

MTIME = 1767225600      # 2026-01-01 00:00:00 UTC


def png(w, h):
    """A real w x h RGB PNG (a gradient), so a browser can decode it."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + bytes(v for x in range(w) for v in (x * 255 // w, y * 255 // h, 160)) for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def files():
    rnd = random.Random(7)
    words = "pollux polls its queue and answers from the stack while the packet is warm".split()
    text = "\n".join(" ".join(rnd.choice(words) for _ in range(12)) for _ in range(6000)).encode() + b"\n"
    css = "".join(f".c{i} {{ color: #{(i * 2654435761) & 0xffffff:06x}; padding: {i % 7}px; }}\n"
                  for i in range(400)).encode()
    # The page checks its own subresources once loaded: the stylesheet's rules, the decoded image.
    js = (b"window.addEventListener('load', function () {\n"
          b"  var css = document.styleSheets.length > 0 && document.styleSheets[0].cssRules.length === 400;\n"
          b"  var img = document.querySelector('img');\n"
          b"  var ok = img.complete && img.naturalWidth === 64;\n"
          b"  document.getElementById('result').textContent =\n"
          b"    'script ran; css ' + (css ? 'loaded' : 'missing') + '; image ' + (ok ? 'loaded' : 'missing');\n"
          b"});\n" + b"// padding so that the script compresses\n" * 50)
    return {
        "css/site.css": css,
        "js/app.js": js,
        "data/big.bin": rnd.randbytes(20 * 1000 * 1000),
        "data/1mib.bin": rnd.randbytes(1 << 20),
        "img/logo.png": png(64, 64),
        "docs/index.html": b"<!doctype html><title>docs</title><p>docs index</p>\n",
        "docs/guide/index.html": b"<!doctype html><title>guide</title><p>guide index</p>\n",
        "docs/guide/chapter 1.txt": b"Chapter one, in a file whose name has a space.\n",
        "deep/a/b/c/d/e/file.json": b'{"depth": 6}\n',
        "names/\u00fcnicode-\u00e9.txt": "UTF-8 name: \u00fcnicode \u00e9\n".encode(),
        "names/percent%.txt": b"a percent sign in the name\n",
        "names/semi;colon.txt": b"a semicolon in the name\n",
        "names/plus+and&.txt": b"a plus and an ampersand in the name\n",
        "text/large.txt": text,
        "empty.txt": b"",
        "nodir/only.txt": b"a directory without an index\n",
        "404.html": b"<!doctype html><title>Not Found</title><p>test site 404</p>\n",
    }


def url(path):
    return urllib.parse.quote(path, safe="/")


def main():
    root = sys.argv[1]
    fs = files()
    links = "".join(f'<li><a href="{url(p)}">{p}</a></li>\n' for p in sorted(fs))
    fs["index.html"] = (f"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>test site</title>"
                        f"<link rel=\"stylesheet\" href=\"css/site.css\"></head>\n<body><ul>\n{links}</ul>"
                        f"<p id=\"result\">script did not run</p><img src=\"img/logo.png\" alt=\"\">"
                        f"<script src=\"js/app.js\"></script></body></html>\n").encode()
    for p, data in fs.items():
        full = os.path.join(root, p)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        try:
            with open(full, "rb") as f:
                same = f.read() == data
        except OSError:
            same = False
        if not same:
            with open(full, "wb") as f:
                f.write(data)
        os.utime(full, (MTIME, MTIME))
    for d, _, _ in os.walk(root):
        os.utime(d, (MTIME, MTIME))


if __name__ == "__main__":
    main()
