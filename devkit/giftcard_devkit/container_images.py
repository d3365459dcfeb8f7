"""Images for `make container-check` without any image registry.

- the base: Debian bookworm (minbase + python3, python3-venv, ca-certificates) made with debootstrap from
  the host's Debian mirror and `docker import`ed; made once, then reused from Docker's image store;
- the stand-ins for the public haproxy / postgres / redis images: Debian's packages on that base
  (deploy/offline-images/);
- the connector image: the repository's Dockerfile on that base, installing from a wheelhouse that pip
  filled on the host, so the build itself never needs PyPI.
Every build runs with `--network host` (apt-get reaches the mirror; there is no bridge to use).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from giftcard_devkit.container_host import HostError, run, say

SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
BASE_IMAGE = "giftcard-check/debian-python:bookworm"
CONNECTOR_IMAGE = "giftcard-check/connector:latest"
IMAGE_TITLE_LABEL = "org.opencontainers.image.title=giftcard-connector"
SERVICE_IMAGES = {
    "haproxy": "giftcard-check/haproxy:bookworm",
    "postgres": "giftcard-check/postgres:bookworm",
    "redis": "giftcard-check/redis:bookworm",
}
WORK_ROOT = Path("/var/tmp")
# pip's download cache for the wheelhouse, kept between runs.
PIP_CACHE = Path("/var/cache/giftcard-check/pip")
# Debian's system trust store (it includes any CA the host added to /usr/local/share/ca-certificates).
WHEEL_CACHE = Path("/var/cache/giftcard-check/wheelhouse")
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# Refuse maintainer scripts' service starts inside image builds (there is no init to start them with).
POLICY_RC_D = "#!/bin/sh\nexit 101\n"


@dataclass(frozen=True)
class Mirrors:
    debian: str
    security: str


def host_mirrors(apt_dir: Path = Path("/etc/apt")) -> Mirrors:
    """The Debian archive and security mirrors from the host's apt sources (deb822 or one-line style)."""
    texts = []
    for path in sorted([apt_dir / "sources.list", *apt_dir.glob("sources.list.d/*.sources")]):
        if path.is_file():
            texts.append(path.read_text(errors="replace"))
    for path in sorted(apt_dir.glob("sources.list.d/*.list")):
        texts.append(path.read_text(errors="replace"))
    urls = re.findall(r"^\s*(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+)", "\n".join(texts), flags=re.MULTILINE)
    debian = next((u for u in urls if re.search(r"/debian/?$", u)), "http://deb.debian.org/debian")
    security = next((u for u in urls if re.search(r"/debian-security/?$", u)), "http://deb.debian.org/debian-security")
    return Mirrors(debian.rstrip("/"), security.rstrip("/"))


def image_exists(tag: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True, check=False).returncode == 0


def ensure_base_image(tag: str = BASE_IMAGE) -> str:
    """The debootstrap-made base image: "cached" when it already exists, else "built"."""
    if image_exists(tag):
        return "cached"
    if shutil.which("debootstrap") is None:
        raise HostError("debootstrap is not installed: apt-get install -y debootstrap")
    mirrors = host_mirrors()
    with tempfile.TemporaryDirectory(prefix="giftcard-rootfs-", dir=WORK_ROOT) as scratch:
        root = Path(scratch) / "root"
        say(f"debootstrap {SUITE} (minbase + {', '.join(BASE_PACKAGES)}) from {mirrors.debian}")
        run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(BASE_PACKAGES)}",
                SUITE,
                str(root),
                mirrors.debian,
            ]
        )
        import_rootfs(root, tag, mirrors)
    return "built"


def import_rootfs(root: Path, tag: str, mirrors: Mirrors) -> None:
    """Point apt at the mirrors (with updates and security), drop caches, and `docker import` the tree."""
    (root / "etc/apt/sources.list").write_text(
        f"deb {mirrors.debian} {SUITE} main\n"
        f"deb {mirrors.debian} {SUITE}-updates main\n"
        f"deb {mirrors.security} {SUITE}-security main\n"
    )
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text(POLICY_RC_D)
    policy.chmod(0o755)
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for item in (root / cache).glob("*"):
            if item.is_file():
                item.unlink()
    tar = subprocess.Popen(["tar", "--numeric-owner", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    changes = [
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV LANG=C.UTF-8",
        'CMD ["python3"]',
    ]
    args = ["docker", "import", *(arg for change in changes for arg in ("--change", change)), "-", tag]
    imported = subprocess.run(args, stdin=tar.stdout, capture_output=True, check=False)
    tar.wait()
    if tar.returncode != 0 or imported.returncode != 0:
        raise HostError(
            f"importing {root} failed: tar {tar.returncode}, docker import {imported.returncode}: "
            f"{imported.stderr.decode(errors='replace')[-500:]}"
        )


def build(tag: str, context: Path, dockerfile: Path, build_args: dict[str, str]) -> float:
    """`docker build` with the classic builder (BuildKit would want its frontend from a registry)."""
    start = time.monotonic()
    args = ["docker", "build", "--force-rm", "--network", "host", "--tag", tag, "--file", str(dockerfile)]
    for name, value in build_args.items():
        args += ["--build-arg", f"{name}={value}"]
    run([*args, str(context)], env={"DOCKER_BUILDKIT": "0"})
    return time.monotonic() - start


def build_service_images(repo: Path) -> dict[str, float]:
    folder = repo / "deploy" / "offline-images"
    return {
        name: build(tag, folder, folder / f"{name}.Dockerfile", {"BASE_IMAGE": BASE_IMAGE})
        for name, tag in SERVICE_IMAGES.items()
    }


def snapshot(repo: Path, into: Path, *, worktree: bool) -> str:
    """A copy of the tree to build from: the last commit (default), or the working tree's tracked and
    new files. Several people share one working tree; HEAD is the state someone vouched for."""
    into.mkdir(parents=True, exist_ok=True)
    if worktree:
        listed = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=repo)
        for name in filter(None, listed.split("\0")):
            source = repo / name
            if source.is_file():
                target = into / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        return "working tree"
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=repo, capture_output=True, check=True).stdout
    run(["tar", "-x", "-C", str(into)], input_bytes=archive)
    return run(["git", "rev-parse", "--short", "HEAD"], cwd=repo).strip()


def fill_wheelhouse(tree: Path) -> int:
    """`pip wheel` the project's dependencies (and the build backend) into tree/deploy/wheelhouse.

    pip runs with the base image's own Python (in a throw-away container on the host network), not the
    host's: environment markers must match the interpreter that installs them. Here the host has 3.11.7
    and bookworm 3.11.2, and redis needs async-timeout only below 3.11.3."""
    wheelhouse = tree / "deploy" / "wheelhouse"
    wheelhouse.mkdir(parents=True, exist_ok=True)
    # The dependencies are pinned in pyproject.toml: the same file, the same wheels.
    cached = WHEEL_CACHE / hashlib.sha256((tree / "pyproject.toml").read_bytes()).hexdigest()[:16]
    if cached.is_dir():
        for wheel in cached.glob("*.whl"):
            shutil.copy2(wheel, wheelhouse / wheel.name)
        return len(list(wheelhouse.glob("*.whl")))
    PIP_CACHE.mkdir(parents=True, exist_ok=True)
    script = (
        "python3 -m venv /tmp/venv && /tmp/venv/bin/pip wheel --quiet --disable-pip-version-check "
        "--wheel-dir /src/deploy/wheelhouse '/src[ledger]' 'setuptools>=77' wheel"
    )
    run(
        [
            "docker", "run", "--rm", "--network", "host",
            "--volume", f"{tree}:/src", "--volume", f"{PIP_CACHE}:/root/.cache/pip",
            *host_pip_settings(), BASE_IMAGE, "sh", "-c", script,
        ]
    )  # fmt: skip
    # Dependencies only: the image builds the package from its sources, and a wheel of it here would
    # change with every commit and defeat the image's cached dependency layer.
    cached.mkdir(parents=True, exist_ok=True)
    for wheel in wheelhouse.glob("*.whl"):
        if wheel.name.startswith("giftcard_connector-"):
            wheel.unlink()
        else:
            shutil.copy2(wheel, cached / wheel.name)
    return len(list(wheelhouse.glob("*.whl")))


def host_pip_settings() -> list[str]:
    """`docker run` options that give the container's pip what the host's pip is configured with: the
    index (values passed by name, never printed), the CA bundle it trusts (a TLS-inspecting egress proxy
    needs it) and local folders of wheels."""
    options: list[str] = []
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_DEFAULT_TIMEOUT"):
        if os.environ.get(name):
            options += ["--env", name]
    cert = os.environ.get("PIP_CERT") or os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
    if cert is None and Path(HOST_CA_BUNDLE).is_file():
        cert = HOST_CA_BUNDLE
    if cert and Path(cert).is_file():
        options += ["--volume", f"{cert}:/etc/giftcard-check/ca.pem:ro", "--env", "PIP_CERT=/etc/giftcard-check/ca.pem"]
    links = [p for p in os.environ.get("PIP_FIND_LINKS", "").split() if Path(p).is_dir()]
    for index, folder in enumerate(links):
        options += ["--volume", f"{folder}:/mnt/find-links-{index}:ro"]
    if links:
        options += ["--env", "PIP_FIND_LINKS=" + " ".join(f"/mnt/find-links-{i}" for i in range(len(links)))]
    return options


def build_connector_image(tree: Path) -> float:
    return build(CONNECTOR_IMAGE, tree, tree / "Dockerfile", {"BASE_IMAGE": BASE_IMAGE, "PIP_NO_INDEX": "1"})


def prune_replaced_connector_images() -> str:
    """Remove earlier builds of the connector image that the new one untagged (they carry the image's
    title label and no tag). The build stages' layers stay: they are the next build's cache."""
    output = run(["docker", "image", "prune", "--force", "--filter", f"label={IMAGE_TITLE_LABEL}"])
    reclaimed = re.search(r"Total reclaimed space: (.+)", output)
    return reclaimed.group(1).strip() if reclaimed else "0B"


def image_size_mb(tag: str) -> float:
    return int(run(["docker", "image", "inspect", "--format", "{{.Size}}", tag]).strip()) / 1e6
