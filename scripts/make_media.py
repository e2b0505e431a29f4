"""Generate the H.264/H.265 clips served by the test RTSP server.

Run with the project's virtual-environment interpreter::

    .venv/bin/python scripts/make_media.py [--out DIR] [--force] [CLIP_OR_GROUP ...]

Clips (all 25 fps, 2 s GOP = keyint 50 with no scene-cut keyframes, no
B-frames, ``-tune zerolatency``, SPS/PPS repeated before every IDR):

* ``test_main.h264``: 1920x1080 High profile, 10 s, raw Annex-B, 4 slices per
  picture (like many real 1080p cameras).
* ``test_sub.h264``: 640x360 High profile, 10 s, raw Annex-B.
* ``test_hevc.h265``: 640x360 H.265 Main, 10 s, raw Annex-B (skipped with a
  message when Debian's ffmpeg lacks libx265).
* ``latency_main.h264``: 1280x720 High profile, 20 s (500 frames), raw
  Annex-B; every frame carries its index 0..499 as a barcode. The geometry is
  documented in, and imported from, ``tests/support/barcode.py``: on a
  mid-grey (128) background, two rows of 16 cells of 48x48 px starting at
  (x=32, y=32); the top row is the fixed sync pattern white/black/white/...,
  the bottom row holds the frame number's bits, least significant bit first,
  white = 1, black = 0. A human-readable number and a moving box are drawn
  below the barcode.
* ``demo_cam{1..4}_main.ts`` (1280x720) and ``demo_cam{1..4}_sub.ts``
  (640x360): 20 s MPEG-TS clips of four distinct generated scenes (fractal,
  cellular-automaton and gradient backgrounds with moving "vehicles", a camera
  name and an on-screen clock).

Groups: ``test`` (test_main, test_sub, test_hevc, latency_main), ``demo``
(the eight demo files) and ``all`` (the default).

The script is idempotent: next to every output file it writes a small JSON
stamp (``<file>.stamp.json``) with the recipe and file size; a file whose stamp
matches is skipped. Outputs are written to temporary names and renamed, and a
lock file serialises concurrent runs on the same folder.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.support import barcode  # noqa: E402

DEFAULT_OUT = REPO_ROOT / "data" / "media"
GENERATOR_VERSION = 1
FPS = 25
KEYINT = 2 * FPS
FONT = "DejaVu Sans"
STAMP_SUFFIX = ".stamp.json"


class MediaError(RuntimeError):
    """Raised when a clip cannot be generated."""


@dataclass(frozen=True)
class Clip:
    """A generation job producing one or more files from one recipe.

    Attributes:
        name: Job name used on the command line.
        outputs: File names the job produces, in the order the builder writes.
        recipe: Everything that determines the output; stored in the stamp.
        build: Callable receiving the temporary output paths (same order as
            ``outputs``) and writing them.
        requires: ffmpeg encoders the job needs; the job is skipped with a
            message when one is missing.
    """

    name: str
    outputs: tuple[str, ...]
    recipe: dict[str, Any]
    build: Callable[[Sequence[Path]], None]
    requires: tuple[str, ...] = field(default=("libx264",))


def x264_args(*, bitrate_kbps: int, slices: int, level: str | None = None) -> list[str]:
    """Returns ffmpeg output options for a decoder-friendly libx264 stream.

    Args:
        bitrate_kbps: Target and maximum bitrate (VBV constrained, camera-like).
        slices: Slices per picture; also the number of sliced threads, which
            keeps the output identical on machines with different core counts.
        level: Optional H.264 level, e.g. ``"4.0"``.

    Returns:
        Arguments to place before the output file.
    """
    params = ":".join(
        [
            f"keyint={KEYINT}",
            f"min-keyint={KEYINT}",
            "scenecut=0",
            "bframes=0",
            "repeat-headers=1",
            "open-gop=0",
            f"threads={slices}",
            "sliced-threads=1",
            f"slices={slices}",
        ]
    )
    args = [
        "-c:v", "libx264",
        "-preset", "veryfast",
        "-tune", "zerolatency",
        "-profile:v", "high",
        "-pix_fmt", "yuv420p",
        "-g", str(KEYINT),
        "-keyint_min", str(KEYINT),
        "-sc_threshold", "0",
        "-bf", "0",
        "-b:v", f"{bitrate_kbps}k",
        "-maxrate", f"{bitrate_kbps}k",
        "-bufsize", f"{bitrate_kbps}k",
        "-x264-params", params,
    ]  # fmt: skip
    if level is not None:
        args += ["-level:v", level]
    return args


def x265_args(*, bitrate_kbps: int) -> list[str]:
    """Returns ffmpeg output options for a decoder-friendly libx265 stream.

    Args:
        bitrate_kbps: Target and maximum bitrate.

    Returns:
        Arguments to place before the output file.
    """
    params = ":".join(
        [
            f"keyint={KEYINT}",
            f"min-keyint={KEYINT}",
            "scenecut=0",
            "bframes=0",
            "repeat-headers=1",
            "open-gop=0",
            "log-level=error",
            f"vbv-maxrate={bitrate_kbps}",
            f"vbv-bufsize={bitrate_kbps}",
        ]
    )
    return [
        "-c:v", "libx265",
        "-preset", "veryfast",
        "-tune", "zerolatency",
        "-pix_fmt", "yuv420p",
        "-g", str(KEYINT),
        "-b:v", f"{bitrate_kbps}k",
        "-x265-params", params,
    ]  # fmt: skip


def ffmpeg_binary() -> str:
    """Returns the ffmpeg executable.

    Raises:
        MediaError: If ffmpeg is not installed.
    """
    path = shutil.which("ffmpeg")
    if path is None:
        raise MediaError("ffmpeg not found: install the Debian package 'ffmpeg'")
    return path


def available_encoders() -> set[str]:
    """Lists the video encoders of the installed ffmpeg."""
    out = subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-encoders"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    names: set[str] = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith("V"):
            names.add(parts[1])
    return names


def run_ffmpeg(args: Sequence[str], *, stdin: bytes | None = None) -> None:
    """Runs ffmpeg quietly and raises with its log on failure."""
    cmd = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    if stdin is not None:
        cmd.remove("-nostdin")
    proc = subprocess.run([*cmd, *args], input=stdin, capture_output=True)
    if proc.returncode != 0:
        log = proc.stderr.decode(errors="replace")[-4000:]
        raise MediaError(f"ffmpeg failed ({proc.returncode}): {' '.join(args)}\n{log}")


def _text(value: str) -> str:
    """Escapes a literal for a single-quoted drawtext text option."""
    return value.replace("\\", "\\\\").replace("'", "").replace(":", "\\:")


def label_filters(label: str, *, fontsize: int) -> str:
    """Returns drawtext filters for a camera name and an on-screen clock."""
    common = (
        f"font='{FONT}':fontsize={fontsize}:fontcolor=white:"
        "box=1:boxcolor=black@0.45:boxborderw=8"
    )
    return (
        f"drawtext={common}:text='{_text(label)}':x=24:y=24,"
        f"drawtext={common}:text='%{{pts\\:gmtime\\:1718000000}}':x=w-tw-24:y=24"
    )


# --- test clips ---------------------------------------------------------


def build_testsrc(
    size: str,
    label: str,
    seconds: int,
    out_args: list[str],
    fmt: str,
) -> Callable[[Sequence[Path]], None]:
    """Returns a builder for a testsrc2 clip with a label and frame counter."""
    width = int(size.split("x")[0])
    fontsize = max(16, width // 40)

    def build(paths: Sequence[Path]) -> None:
        graph = (
            f"testsrc2=size={size}:rate={FPS}:duration={seconds},"
            f"drawtext=font='{FONT}':fontsize={fontsize}:fontcolor=white:"
            "box=1:boxcolor=black@0.6:boxborderw=6:"
            f"text='{_text(label)}  %{{n}}':x=24:y=h-th-24[out]"
        )
        run_ffmpeg(
            [
                "-filter_complex", graph,
                "-map", "[out]",
                "-r", str(FPS),
                *out_args,
                "-f", fmt,
                str(paths[0]),
            ]
        )  # fmt: skip

    return build


# --- latency clip -------------------------------------------------------

LATENCY_SECONDS = 20
LATENCY_FRAMES = LATENCY_SECONDS * FPS


def latency_frame(index: int) -> npt.NDArray[np.uint8]:
    """Renders frame ``index`` of the latency clip as RGB (720, 1280, 3)."""
    import cv2  # opencv-python-headless, a project dependency

    frame = np.full(
        (barcode.REF_HEIGHT, barcode.REF_WIDTH, 3),
        barcode.BACKGROUND_LEVEL,
        dtype=np.uint8,
    )
    barcode.draw_barcode(frame, index)
    # Human-readable decoration, strictly outside the barcode rectangle.
    cv2.putText(
        frame,
        f"FRAME {index:05d}",
        (barcode.ORIGIN_X, 230),
        cv2.FONT_HERSHEY_SIMPLEX,
        2.0,
        (255, 255, 255),
        4,
        cv2.LINE_AA,
    )
    cv2.putText(
        frame,
        "LATENCY CLIP 25 fps",
        (barcode.ORIGIN_X, 300),
        cv2.FONT_HERSHEY_SIMPLEX,
        1.2,
        (230, 230, 230),
        2,
        cv2.LINE_AA,
    )
    box = 96
    x = (index * 12) % (barcode.REF_WIDTH - box)
    frame[480 : 480 + box, x : x + box] = (40, 90, 200)
    return frame


def build_latency(paths: Sequence[Path]) -> None:
    """Encodes the barcode clip by piping numpy frames into ffmpeg."""
    cmd = [
        ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo",
        "-pix_fmt", "rgb24",
        "-s", f"{barcode.REF_WIDTH}x{barcode.REF_HEIGHT}",
        "-r", str(FPS),
        "-i", "-",
        *x264_args(bitrate_kbps=2500, slices=2),
        "-f", "h264",
        str(paths[0]),
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=log)
        assert proc.stdin is not None  # noqa: S101 - set by stdin=PIPE
        try:
            for index in range(LATENCY_FRAMES):
                proc.stdin.write(latency_frame(index).tobytes())
        finally:
            proc.stdin.close()
            code = proc.wait()
        if code != 0:
            log.seek(0)
            raise MediaError(f"ffmpeg failed ({code}): {log.read().decode()[-4000:]}")


# --- demo clips ---------------------------------------------------------

DEMO_SECONDS = 20


@dataclass(frozen=True)
class Mover:
    """A coloured box moving across the scene (a "vehicle" or "person")."""

    color: str
    w: int
    h: int
    x: str
    y: str


@dataclass(frozen=True)
class Scene:
    """One demo camera's generated scene."""

    label: str
    background: str
    road: str
    movers: tuple[Mover, ...]


DEMO_SCENES: dict[int, Scene] = {
    1: Scene(
        label="CAM 1  HARBOUR GATE",
        background=(
            "mandelbrot=size=640x360:rate=25:maxiter=200:start_scale=2.5:"
            "end_scale=0.4:end_pts=1000:outer=normalized_iteration_count,"
            "scale=1280:720,format=yuv420p,eq=saturation=0.35:brightness=-0.12"
        ),
        road="drawbox=x=0:y=470:w=iw:h=180:color=0x3a3d40:t=fill,"
        "drawbox=x=0:y=556:w=iw:h=6:color=0xd0c040:t=fill",
        movers=(
            Mover("0xc03020", 150, 64, "mod(40+t*210,W+w)-w", "490"),
            Mover("0xe0e0e0", 110, 54, "W-mod(300+t*150,W+w)", "580"),
            Mover("0x2060c0", 190, 70, "mod(700+t*120,W+w)-w", "485"),
            Mover("0xf0d020", 24, 48, "200+100*sin(t/3)", "410"),
        ),
    ),
    2: Scene(
        label="CAM 2  CENTRAL STATION",
        background=(
            "life=size=320x180:rate=25:ratio=0.12:mold=25:seed=7:"
            "death_color=#1b232b:life_color=#a8b48c:mold_color=#3c4a58,"
            "scale=1280:720:flags=neighbor,format=yuv420p"
        ),
        road="drawbox=x=0:y=520:w=iw:h=200:color=0x585450:t=fill",
        movers=(
            Mover("0xe04040", 28, 64, "mod(t*70,W+w)-w", "560"),
            Mover("0x40c0e0", 28, 64, "W-mod(100+t*55,W+w)", "600"),
            Mover("0xf0f0f0", 28, 64, "mod(500+t*90,W+w)-w", "640"),
            Mover("0x40e060", 28, 64, "W-mod(700+t*40,W+w)", "580"),
            Mover("0xb0a020", 420, 120, "mod(t*300,W*3)-w", "380"),
        ),
    ),
    3: Scene(
        label="CAM 3  RING ROAD EAST",
        background=(
            "cellauto=size=160x90:rate=25:rule=110:scroll=1:"
            "random_fill_ratio=0.5:random_seed=3,"
            "scale=1280:720:flags=neighbor,format=yuv420p,"
            "eq=contrast=0.35:brightness=-0.2,hue=h=200:s=0.6"
        ),
        road="drawbox=x=380:y=0:w=520:h=ih:color=0x34363a:t=fill,"
        "drawbox=x=636:y=0:w=8:h=ih:color=0xe0e0e0:t=fill",
        movers=(
            Mover("0xd03030", 90, 170, "430", "mod(t*260,H+h)-h"),
            Mover("0x3050d0", 90, 150, "520", "mod(200+t*200,H+h)-h"),
            Mover("0xe0e0e0", 90, 160, "700", "H-mod(t*240,H+h)"),
            Mover("0x30a050", 110, 220, "790", "H-mod(400+t*150,H+h)"),
        ),
    ),
    4: Scene(
        label="CAM 4  SUBSTATION YARD",
        background=(
            "gradients=size=1280x720:rate=25:speed=0.01:n=3:seed=11:"
            "c0=0x203040:c1=0x405030:c2=0x302820,format=yuv420p,"
            "drawgrid=w=160:h=120:t=3:color=0x808890@0.6"
        ),
        road="drawbox=x=100:y=300:w=300:h=260:color=0x606468:t=fill,"
        "drawbox=x=560:y=260:w=240:h=300:color=0x606468:t=fill,"
        "drawbox=x=940:y=320:w=260:h=220:color=0x606468:t=fill",
        movers=(
            Mover("0xf0a020", 30, 70, "100+mod(t*60,1080)", "590"),
            Mover("0xf0f0f0", 150, 80, "W-mod(t*110,W+w)", "620"),
            Mover("0xd03030", 20, 20, "660+18*sin(t*5)", "220"),
        ),
    ),
}


def demo_graph(scene: Scene) -> str:
    """Builds the filter graph rendering ``scene`` into [main] and [sub]."""
    parts = [
        f"{scene.background},{scene.road},trim=duration={DEMO_SECONDS}[bg0]",
    ]
    current = "bg0"
    for i, mover in enumerate(scene.movers):
        parts.append(
            f"color=c={mover.color}:s={mover.w}x{mover.h}:rate={FPS}:"
            f"d={DEMO_SECONDS}[m{i}]"
        )
        parts.append(
            f"[{current}][m{i}]overlay=x='{mover.x}':y='{mover.y}':"
            f"eof_action=pass[bg{i + 1}]"
        )
        current = f"bg{i + 1}"
    parts.append(
        f"[{current}]{label_filters(scene.label, fontsize=30)},format=yuv420p,"
        "split=2[main][subin]"
    )
    parts.append("[subin]scale=640:360:flags=bicubic[sub]")
    return ";".join(parts)


def build_demo(scene: Scene) -> Callable[[Sequence[Path]], None]:
    """Returns a builder writing the main and sub MPEG-TS clips of a scene."""

    def build(paths: Sequence[Path]) -> None:
        run_ffmpeg(
            [
                "-filter_complex", demo_graph(scene),
                "-map", "[main]",
                "-r", str(FPS),
                "-t", str(DEMO_SECONDS),
                *x264_args(bitrate_kbps=2000, slices=2, level="3.1"),
                "-f", "mpegts",
                str(paths[0]),
                "-map", "[sub]",
                "-r", str(FPS),
                "-t", str(DEMO_SECONDS),
                *x264_args(bitrate_kbps=400, slices=1, level="3.0"),
                "-f", "mpegts",
                str(paths[1]),
            ]
        )  # fmt: skip

    return build


# --- registry -----------------------------------------------------------


def all_clips() -> dict[str, Clip]:
    """Returns every generation job by name."""
    main_args = x264_args(bitrate_kbps=4000, slices=4, level="4.0")
    sub_args = x264_args(bitrate_kbps=500, slices=1, level="3.0")
    hevc_args = x265_args(bitrate_kbps=400)
    clips = [
        Clip(
            "test_main",
            ("test_main.h264",),
            {"src": "testsrc2", "size": "1920x1080", "s": 10, "args": main_args},
            build_testsrc("1920x1080", "CITYWALL TEST MAIN", 10, main_args, "h264"),
        ),
        Clip(
            "test_sub",
            ("test_sub.h264",),
            {"src": "testsrc2", "size": "640x360", "s": 10, "args": sub_args},
            build_testsrc("640x360", "CITYWALL TEST SUB", 10, sub_args, "h264"),
        ),
        Clip(
            "test_hevc",
            ("test_hevc.h265",),
            {"src": "testsrc2", "size": "640x360", "s": 10, "args": hevc_args},
            build_testsrc("640x360", "CITYWALL TEST HEVC", 10, hevc_args, "hevc"),
            requires=("libx265",),
        ),
        Clip(
            "latency_main",
            ("latency_main.h264",),
            {
                "frames": LATENCY_FRAMES,
                "geometry": [
                    barcode.REF_WIDTH,
                    barcode.REF_HEIGHT,
                    barcode.BACKGROUND_LEVEL,
                    barcode.CELL_SIZE,
                    barcode.NUM_CELLS,
                    barcode.ORIGIN_X,
                    barcode.ORIGIN_Y,
                    list(barcode.SYNC_PATTERN),
                ],
                "args": x264_args(bitrate_kbps=2500, slices=2),
            },
            build_latency,
        ),
    ]
    for cam, scene in DEMO_SCENES.items():
        clips.append(
            Clip(
                f"demo_cam{cam}",
                (f"demo_cam{cam}_main.ts", f"demo_cam{cam}_sub.ts"),
                {"graph": demo_graph(scene), "s": DEMO_SECONDS},
                build_demo(scene),
            )
        )
    return {clip.name: clip for clip in clips}


GROUPS: dict[str, tuple[str, ...]] = {
    "test": ("test_main", "test_sub", "test_hevc", "latency_main"),
    "demo": tuple(f"demo_cam{cam}" for cam in DEMO_SCENES),
}


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + STAMP_SUFFIX)


def _stamp(clip: Clip) -> dict[str, Any]:
    return {"generator": GENERATOR_VERSION, "clip": clip.name, "recipe": clip.recipe}


def is_current(out_dir: Path, clip: Clip) -> bool:
    """Tells whether every output of ``clip`` exists with a matching stamp."""
    expected = _stamp(clip)
    for name in clip.outputs:
        path = out_dir / name
        stamp_path = _stamp_path(path)
        if not path.is_file() or not stamp_path.is_file():
            return False
        try:
            stamp = json.loads(stamp_path.read_text())
        except (OSError, ValueError):
            return False
        size = stamp.pop("size", None) if isinstance(stamp, dict) else None
        if stamp != expected or size != path.stat().st_size:
            return False
    return True


@contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    with (out_dir / ".make_media.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def generate(
    out_dir: Path,
    names: Sequence[str] | None = None,
    *,
    force: bool = False,
) -> list[Path]:
    """Generates the requested clips into ``out_dir``, skipping current ones.

    Args:
        out_dir: Output folder, created if needed.
        names: Clip or group names; ``None`` means all.
        force: Regenerate even when the stamp matches.

    Returns:
        Paths of the files that exist after the run.

    Raises:
        MediaError: On an unknown name, a missing ffmpeg or an ffmpeg failure.
    """
    clips = all_clips()
    wanted: list[str] = []
    for name in names or ["all"]:
        if name == "all":
            expanded: Sequence[str] = list(clips)
        elif name in GROUPS:
            expanded = GROUPS[name]
        elif name in clips:
            expanded = [name]
        else:
            known = ", ".join([*clips, *GROUPS, "all"])
            raise MediaError(f"unknown clip {name!r}; known: {known}")
        wanted += [n for n in expanded if n not in wanted]
    out_dir.mkdir(parents=True, exist_ok=True)
    encoders: set[str] | None = None
    produced: list[Path] = []
    with _locked(out_dir):
        for name in wanted:
            clip = clips[name]
            if not force and is_current(out_dir, clip):
                print(f"up to date: {', '.join(clip.outputs)}")
                produced += [out_dir / n for n in clip.outputs]
                continue
            if encoders is None:
                encoders = available_encoders()
            missing = [enc for enc in clip.requires if enc not in encoders]
            if missing:
                print(
                    f"skipping {name}: ffmpeg lacks encoder(s) {', '.join(missing)}",
                    file=sys.stderr,
                )
                continue
            print(f"generating {', '.join(clip.outputs)} ...", flush=True)
            tmp_paths = [out_dir / f".{n}.tmp{os.getpid()}" for n in clip.outputs]
            try:
                clip.build(tmp_paths)
                for tmp, out_name in zip(tmp_paths, clip.outputs, strict=True):
                    final = out_dir / out_name
                    os.replace(tmp, final)
                    stamp = {**_stamp(clip), "size": final.stat().st_size}
                    _stamp_path(final).write_text(json.dumps(stamp, indent=1) + "\n")
                    produced.append(final)
            finally:
                for tmp in tmp_paths:
                    tmp.unlink(missing_ok=True)
    return produced


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "names",
        nargs="*",
        metavar="CLIP_OR_GROUP",
        help="clips or groups (test, demo, all); default: all",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="output folder (default: data/media in the repository)",
    )
    parser.add_argument("--force", action="store_true", help="regenerate all")
    args = parser.parse_args(argv)
    try:
        generate(args.out, args.names or None, force=args.force)
    except MediaError as exc:
        print(f"make_media: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
