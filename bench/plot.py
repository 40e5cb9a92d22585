#!/usr/bin/env python3
"""Draws bench/growth.svg from bench/growth.sh's JSON: four small charts (log-scaled x axis), written
by hand as SVG so nothing beyond Python is needed.

usage: plot.py GROWTH.json OUT.svg
"""
import json
import math
import sys
from xml.sax.saxutils import escape

W, H = 380, 240  # one chart
LEFT, RIGHT, TOP, BOTTOM = 58, 16, 34, 40
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]


def nice_max(v):
    if v <= 0:
        return 1
    step = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if m * step >= v:
            return m * step
    return 10 * step


def chart(x0, y0, title, xlabel, ylabel, series):
    """series: [(label, {x: y})]. Returns SVG elements."""
    out = [f'<g transform="translate({x0},{y0})">']
    out.append(f'<text x="{W / 2}" y="18" text-anchor="middle" font-weight="bold">{escape(title)}</text>')
    xs = sorted({x for _, pts in series for x in pts})
    ys = [y for _, pts in series for y in pts.values()]
    if not xs or not ys:
        out.append(f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle">no data</text></g>')
        return out
    lo, hi = math.log10(xs[0]), math.log10(xs[-1])
    span = hi - lo or 1
    top = nice_max(max(ys) * 1.05)
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    px = lambda x: LEFT + (math.log10(x) - lo) / span * pw
    py = lambda y: TOP + ph - y / top * ph
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
    for i in range(5):
        v = top * i / 4
        y = py(v)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + pw}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
    for x in xs:
        out.append(f'<text x="{px(x):.1f}" y="{TOP + ph + 16}" text-anchor="middle">{x:,}</text>')
    out.append(f'<text x="{LEFT + pw / 2}" y="{H - 6}" text-anchor="middle">{escape(xlabel)}</text>')
    out.append(f'<text transform="translate(14,{TOP + ph / 2}) rotate(-90)" text-anchor="middle">{escape(ylabel)}</text>')
    for i, (label, pts) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join(f"{px(x):.1f},{py(pts[x]):.1f}" for x in sorted(pts))
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x in sorted(pts):
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(pts[x]):.1f}" r="3" fill="{colour}"/>')
        out.append(f'<text x="{LEFT + 8}" y="{TOP + 14 + 14 * i}" fill="{colour}">{escape(label)}</text>')
    out.append("</g>")
    return out


def column(sweep, key):
    return {int(n): row[key] for n, row in sweep.items() if key in row}


def main():
    data = json.load(open(sys.argv[1]))
    secrets, sites = data.get("secrets", {}), data.get("sites", {})
    parts = []
    parts += chart(0, 0, "A hit, by secrets held", "secrets held", "instructions per call",
                   [("pantheon_get_secret()", column(secrets, "hit_instructions"))])
    parts += chart(W, 0, "Cold fetch, by secrets held", "secrets held", "first call (ms)",
                   [("file", column(secrets, "cold_file_ms")), ("service, mutual TLS", column(secrets, "cold_mtls_ms"))])
    parts += chart(0, H, "Service answer, by secrets held", "secrets held", "ms (one connection)",
                   [("mean", column(secrets, "answer_ms"))])
    parts += chart(W, H, "Service, by sites in the store", "sites in the store", "ms",
                   [("answer, mean", column(sites, "answer_ms")), ("cold fetch, mutual TLS", column(sites, "cold_mtls_ms"))])
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W}" height="{2 * H}" viewBox="0 0 {2 * W} {2 * H}" '
           'font-family="sans-serif" font-size="11">', f'<rect width="{2 * W}" height="{2 * H}" fill="white"/>']
    svg += parts + ["</svg>"]
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
