"""Copy the gallery figures of finished runs into docs/figures/gallery/ as small PNGs (docs/gallery.md).

Run the commands of docs/gallery.md first (they write out/gallery/<run>/plots/); then

    python tools/make_gallery.py            # from the repository root

Each figure is shrunk to at most ``--width`` pixels and stored with a 256-colour palette (small files for git).
A missing source figure is reported and skipped; existing gallery files are replaced (they are derived outputs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FIGURES = {
    # gallery name: source under out/
    "paper2016_B_posterior_vs_profile.png": "gallery/paper2016_B_nonosc/plots/compare_eps_earth_ee.png",
    "paper2016_BmL_posterior_vs_profile_tautau.png": "gallery/paper2016_BmL_nonosc/plots/compare_eps_earth_tautau-mumu.png",
    "paper2016_BmL_posterior_vs_profile_mutau.png": "gallery/paper2016_BmL_nonosc/plots/compare_abs_eps_earth_mutau.png",
    "full_B_corner.png": "full_B/plots/corner.png",
    "full_BmL_corner.png": "full_BmL/plots/corner.png",
    "full_L_corner.png": "full_L/plots/corner.png",
    "full_B_plane.png": "full_B/plots/plane.png",
    "full_BmL_plane.png": "full_BmL/plots/plane.png",
    "full_L_plane.png": "full_L/plots/plane.png",
    "full_B_eps.png": "full_B/plots/corner_eps.png",
    "full_BmL_eps.png": "full_BmL/plots/corner_eps.png",
    "full_L_eps.png": "full_L/plots/corner_eps.png",
    # U(1)_B at LMA-Dark (runs/lma_dark_B.yaml)
    "lma_dark_B_corner.png": "lma_dark_B/plots/corner.png",
    "lma_dark_B_plane.png": "lma_dark_B/plots/plane.png",
    "lma_dark_B_likelihoods.png": "lma_dark_B/plots/likelihoods.png",
    # the 100 x 100 profile map of full_B (globalfit profile ... --out out/full_B/profile100, docs/gallery.md)
    "full_B_profile_100.png": "full_B/profile100/profile_eps_earth_ee.png",
    # where each likelihood bites (globalfit report)
    "full_B_dominance.png": "full_B/plots/dominance.png",
    "full_BmL_dominance.png": "full_BmL/plots/dominance.png",
    "full_L_dominance.png": "full_L/plots/dominance.png",
    "full_B_likelihoods.png": "full_B/plots/likelihoods.png",
    "full_BmL_likelihoods.png": "full_BmL/plots/likelihoods.png",
    "full_L_likelihoods.png": "full_L/plots/likelihoods.png",
    # the three scenarios overlaid (globalfit plot out/full_B out/full_BmL out/full_L --compare --out out/compare_full)
    "compare_full_triangle.png": "compare_full/triangle.png",
    "compare_full_plane.png": "compare_full/plane.png",
}


def shrink(src: Path, dst: Path, width: int) -> int:
    from PIL import Image

    with Image.open(src) as im:
        im = im.convert("RGB")
        if im.width > width:
            im = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
        im.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(dst, optimize=True)
    return dst.stat().st_size


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-root", default=str(ROOT / "out"), help="where the runs wrote their outputs (default ./out)")
    ap.add_argument("--width", type=int, default=800)
    ap.add_argument("--only", nargs="+", help="gallery names to refresh (default: all)")
    args = ap.parse_args(argv)
    dest = ROOT / "docs" / "figures" / "gallery"
    dest.mkdir(parents=True, exist_ok=True)
    missing = 0
    for name, rel in FIGURES.items():
        if args.only and name not in args.only:
            continue
        src = Path(args.out_root) / rel
        if not src.is_file():
            print(f"missing: {src} (run the commands of docs/gallery.md)", file=sys.stderr)
            missing += 1
            continue
        size = shrink(src, dest / name, args.width)
        print(f"{dest / name}  {size / 1024:.0f} KiB")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
