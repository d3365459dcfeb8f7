"""`make container-check`: build the image, run compose.yaml's stack here, drive it through the load
balancer, kill a Processor copy in the middle, and check the ledger against commercetools to the cent.

Needs root (it runs dockerd, debootstrap and containers), Debian's docker.io, docker-compose and
debootstrap, and the devkit's Node emulator (`make setup`). No image registry is used: the base image is
made with debootstrap from the host's Debian mirror; PostgreSQL, Redis and HAProxy run from images with
Debian's packages on that base; the connector installs from a wheelhouse pip fills on the host. Every
container uses host networking and listens on 127.0.0.1 on a port chosen free at start.

    python -m giftcard_devkit.container_check [--worktree] [--shoppers N] [--keep]

Stops and removes what it started (containers, the compose volume, the emulator, scratch files) and
leaves dockerd as it found it; the images stay in Docker's store so the next run skips the builds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from giftcard_devkit import container_images as images
from giftcard_devkit.container_drive import CommercetoolsSide, Shopper, drive, percentile, tls_context
from giftcard_devkit.container_host import Compose, Dockerd, HostError, inspect, say, wait_healthy
from giftcard_devkit.container_tls import self_signed
from giftcard_devkit.container_verify import Agreement, LedgerAdmin, compare
from giftcard_devkit.emulator import Emulator
from giftcard_devkit.processes import free_port

REPO = Path(__file__).resolve().parents[2]
PROJECT = "giftcard-check"
CARD_BALANCE = 100_000
# Above the per-session limit (10 a minute), below twice it: shared counters answer 429 from the 11th
# check on, counters kept in each copy never do (each sees 8 of the 16).
SHARED_LIMIT_TRIES = 16


@dataclass
class Timings:
    steps: list[tuple[str, float, str]] = field(default_factory=list)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[list[str]]:
        """Time a step; the body may append a short detail to the yielded list."""
        detail: list[str] = []
        say(f"{name} ...")
        start = time.monotonic()
        try:
            yield detail
        finally:
            elapsed = time.monotonic() - start
            self.steps.append((name, elapsed, "; ".join(detail)))
            say(f"{name}: {elapsed:.1f}s {'; '.join(detail)}".rstrip())

    def table(self) -> str:
        width = max(len(name) for name, _, _ in self.steps)
        return "\n".join(f"  {name:<{width}}  {secs:7.1f}s  {detail}" for name, secs, detail in self.steps)


@dataclass
class Ports:
    lb_http: int = field(default_factory=free_port)
    lb_https: int = field(default_factory=free_port)
    processor_1: int = field(default_factory=free_port)
    processor_2: int = field(default_factory=free_port)
    ledger: int = field(default_factory=free_port)
    postgres: int = field(default_factory=free_port)
    redis: int = field(default_factory=free_port)
    lb_stats: int = field(default_factory=free_port)


def write_env(path: Path, values: dict[str, str]) -> None:
    path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    path.chmod(0o600)


def stack_env(ports: Ports, processor_env: Path, tls_pem: Path) -> dict[str, str]:
    """compose.env for the check: the offline images, free loopback ports, throw-away secrets."""
    return {
        "CONNECTOR_IMAGE": images.CONNECTOR_IMAGE,
        "POSTGRES_IMAGE": images.SERVICE_IMAGES["postgres"],
        "REDIS_IMAGE": images.SERVICE_IMAGES["redis"],
        "HAPROXY_IMAGE": images.SERVICE_IMAGES["haproxy"],
        "LB_BIND": "127.0.0.1",
        "LB_HTTP_PORT": str(ports.lb_http),
        "LB_HTTPS_PORT": str(ports.lb_https),
        "LB_STATS_PORT": str(ports.lb_stats),
        "LB_TLS_PEM": str(tls_pem),
        "PROCESSOR_1_PORT": str(ports.processor_1),
        "PROCESSOR_2_PORT": str(ports.processor_2),
        "LEDGER_PORT": str(ports.ledger),
        "POSTGRES_PORT": str(ports.postgres),
        "REDIS_PORT": str(ports.redis),
        "POSTGRES_PASSWORD": secrets.token_urlsafe(18),
        "LEDGER_SECRET_KEY": secrets.token_urlsafe(32),
        "PROCESSOR_ENV_FILE": str(processor_env),
    }


def processor_settings(emulator: Emulator, ledger_key: str) -> dict[str, str]:
    return {
        **emulator.processor_env(),
        "LEDGER_API_KEY": ledger_key,
        "CORS_ALLOWED_ORIGINS": "https://shop.example.com",
        "LOG_LEVEL": "WARNING",
        # Every shopper of the check comes from 127.0.0.1 (HAProxy's X-Forwarded-For names the real
        # client, and here that is loopback for all): lift the per-address limits only; the per-session
        # and per-card limits stay at their defaults and are what the shared-limit step exercises.
        "RATE_LIMIT_BALANCE_PER_ADDRESS": "100000/minute",
        "RATE_LIMIT_REDEEM_PER_ADDRESS": "100000/minute",
    }


def image_has_command(command: str) -> bool:
    """Whether the built image's CLI offers `command` (parts of the stack land in other issues)."""
    probe = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", images.CONNECTOR_IMAGE, "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    return re.search(rf"\b{re.escape(command)}\b", probe.stdout) is not None


def image_setting_exists(name: str) -> bool:
    """Whether the built image's Processor settings know `name` (parts of the stack land in other issues)."""
    code = f"from giftcard_connector.settings import Settings; print({name!r} in Settings.model_fields)"
    probe = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--entrypoint", "python3", images.CONNECTOR_IMAGE, "-c", code],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.stdout.strip() == "True"


@dataclass(frozen=True)
class Victim:
    """The copy to kill, looked up before the drive so that the kill itself is one system call."""

    container: str
    pid: int
    restarts: int

    @classmethod
    def of(cls, compose: Compose, service: str) -> Victim:
        container = compose.container_id(service)
        pid = int(inspect(container, "{{.State.Pid}}"))
        return cls(container, pid, int(inspect(container, "{{.RestartCount}}")))

    def kill(self) -> None:
        """SIGKILL the copy's process from the host, as a crash or the OOM killer would."""
        os.kill(self.pid, signal.SIGKILL)


def wait_restarted(container: str, restarts_before: int, timeout: float = 120) -> float:
    """Seconds until docker has restarted the container (restart policy) and it is healthy again."""
    start = time.monotonic()
    while int(inspect(container, "{{.RestartCount}}")) <= restarts_before:
        if time.monotonic() - start > timeout:
            raise HostError(f"container {container[:12]} was not restarted within {timeout:.0f}s")
        time.sleep(0.1)
    wait_healthy(container, timeout - (time.monotonic() - start))
    return time.monotonic() - start


def lb_log_counts(compose: Compose) -> tuple[Counter[str], Counter[str]]:
    return count_lb_log(compose("logs", "--no-color", "lb"))


def count_lb_log(text: str) -> tuple[Counter[str], Counter[str]]:
    """Requests per Processor copy and per status, from HAProxy's request log (`option httplog`)."""
    per_server: Counter[str] = Counter()
    per_status: Counter[str] = Counter()
    for match in re.finditer(r"processors/(\S+) \S+ (\d{3}) ", text):
        per_server[match.group(1)] += 1
        per_status[match.group(2)] += 1
    return per_server, per_status


def current_sessions(stats_csv: str, backend: str, server: str) -> int:
    """A server's current sessions (`scur`) from HAProxy's `/stats;csv` page."""
    lines = stats_csv.lstrip("# ").splitlines()
    header = lines[0].split(",")
    for row in csv.DictReader(lines[1:], fieldnames=header):
        if row.get("pxname") == backend and row.get("svname") == server:
            return int(row.get("scur") or 0)
    return 0


def error_summary(log_line: str) -> str:
    """One JSON error log line (as `compose logs` prints it) cut to its event and the traceback's end."""
    start = log_line.find("{")
    try:
        record = json.loads(log_line[start:])
    except ValueError:
        return log_line.strip()[:600]
    trace = str(record.get("exception", "")).strip().splitlines()
    return f"{log_line[:start].strip()} {record.get('event')}: " + " | ".join(line.strip() for line in trace[-7:])


def json_line(text: str) -> dict[str, Any]:
    """The (indented) JSON document a command printed, among compose's own lines."""
    match = re.search(r"^\{.*^\}", text, flags=re.DOTALL | re.MULTILINE)
    if match is None:
        raise HostError(f"no JSON document in: {text[-300:]}")
    body: dict[str, Any] = json.loads(match.group(0))
    return body


class Check:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.timings = Timings()
        self.dockerd = Dockerd()
        self.scratch = Path(tempfile.mkdtemp(prefix="giftcard-check-", dir=images.WORK_ROOT))
        self.tree = self.scratch / "tree"
        self.ports = Ports()
        self.emulator: Emulator | None = None
        self.compose: Compose | None = None
        self.findings: list[str] = []
        self.failures: list[str] = []

    # -- building ------------------------------------------------------------------------------------
    def build(self) -> None:
        step = self.timings.step
        with step("dockerd") as d:
            d.append(self.dockerd.ensure())
        with step("base image (debootstrap + docker import)") as d:
            d.append(images.ensure_base_image())
        with step("source snapshot") as d:
            d.append(images.snapshot(REPO, self.tree, worktree=self.args.worktree))
        with step("service images (haproxy, postgres, redis from Debian)") as d:
            built = images.build_service_images(self.tree)
            d.append(", ".join(f"{n} {s:.0f}s" for n, s in built.items()))
        with step("wheelhouse (pip in the base image, host network)") as d:
            d.append(f"{images.fill_wheelhouse(self.tree)} wheels")
        with step("connector image (multi-stage, offline)") as d:
            images.build_connector_image(self.tree)
            d.append(f"{images.image_size_mb(images.CONNECTOR_IMAGE):.0f} MB")
            d.append(f"earlier builds removed: {images.prune_replaced_connector_images()}")

    # -- the stack -------------------------------------------------------------------------------------
    def start_stack(self) -> tuple[str, str]:
        step = self.timings.step
        with step("emulator on the host") as d:
            self.emulator = Emulator().start()
            d.append(self.emulator.base_url)
        site_pem, ca_pem = self_signed(self.scratch)
        processor_env = self.scratch / "processor.env"
        stack_file = self.scratch / "compose.env"
        stack = stack_env(self.ports, processor_env, site_pem)
        write_env(stack_file, stack)
        write_env(processor_env, processor_settings(self.emulator, ledger_key="pending"))
        self.compose = Compose(PROJECT, self.tree, stack_file, env={})
        with step("postgres, redis, ledger up (healthy)"):
            self.compose("up", "-d", "ledger")
            wait_healthy(self.compose.container_id("ledger"), 120)
        with step("ledger API keys (compose exec)"):
            keys = {role: self.ledger_key(role) for role in ("processor", "admin")}
        write_env(processor_env, processor_settings(self.emulator, keys["processor"]))
        with step("two Processors and HAProxy up (healthy)"):
            self.compose("up", "-d")
            for service in ("processor-1", "processor-2"):
                wait_healthy(self.compose.container_id(service), 120)
            self.wait_lb(ca_pem)
        return keys["admin"], str(ca_pem)

    def ledger_key(self, role: str) -> str:
        """`ledger keys create` inside the running ledger container (an operator's one-off command)."""
        assert self.compose is not None
        command = ["giftcard-connector", "ledger", "keys", "create", "--role", role, "--json"]
        return str(json_line(self.compose("exec", "-T", "ledger", *command))["key"])

    def wait_lb(self, ca_pem: Path, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(verify=tls_context(str(ca_pem)), timeout=2) as client:
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"https://127.0.0.1:{self.ports.lb_https}/health").status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise HostError("HAProxy does not answer /health over TLS")
                time.sleep(0.3)

    # -- the drive ---------------------------------------------------------------------------------------
    async def exercise(self, admin_key: str, ca_pem: str) -> Agreement:
        assert self.emulator is not None and self.compose is not None
        compose, emulator = self.compose, self.emulator
        ledger = LedgerAdmin(f"http://127.0.0.1:{self.ports.ledger}", admin_key)
        ct = CommercetoolsSide(emulator.base_url, emulator.project_key, emulator.access_token())
        lb = httpx.AsyncClient(
            base_url=f"https://127.0.0.1:{self.ports.lb_https}",
            verify=tls_context(ca_pem),
            timeout=httpx.Timeout(40, connect=5),
            limits=httpx.Limits(max_connections=64),
        )
        try:
            codes = await ledger.issue(self.args.shoppers, CARD_BALANCE)
            shoppers = [Shopper(i, code, CARD_BALANCE) for i, code in enumerate(codes)]
            victim = Victim.of(compose, "processor-1")

            stats_page = httpx.AsyncClient(timeout=2)

            async def in_flight() -> int:
                csv = (await stats_page.get(f"http://127.0.0.1:{self.ports.lb_stats}/stats;csv")).text
                return current_sessions(csv, "processors", "processor-1")

            def wait_back() -> float:
                say("processor-1 killed (SIGKILL from the host)")
                return wait_restarted(victim.container, victim.restarts)

            with self.timings.step("drive through HAProxy (TLS), processor-1 killed midway") as d:
                stats, report, seconds = await drive(
                    shoppers,
                    lb,
                    ct,
                    kill=victim.kill,
                    in_flight=in_flight,
                    wait_back=wait_back,
                    kill_after=self.args.kill_after,
                    run_after_back=self.args.run_after_back,
                    max_seconds=self.args.max_seconds,
                )
                d.append(f"{stats.redemptions} redemptions, {stats.balance_checks} balance checks in {seconds:.1f}s")
            await stats_page.aclose()
            per_server, per_status = lb_log_counts(compose)
            latency = stats.redeem_latency
            self.findings += [
                f"shoppers at once: {len(shoppers)}; redemptions {stats.redemptions} "
                f"({stats.redemptions / seconds:.1f}/s), balance checks {stats.balance_checks}",
                f"redeem until answered: p50 {percentile(latency, 0.5) * 1000:.0f} ms, "
                f"p95 {percentile(latency, 0.95) * 1000:.0f} ms, max {max(latency, default=0) * 1000:.0f} ms; "
                f"resubmits {stats.resubmits}",
                f"answers seen by the shoppers: {dict(sorted(stats.answers.items()))}",
                f"HAProxy log: requests per copy {dict(per_server)}, per status {dict(sorted(per_status.items()))}",
                f"processor-1 killed at {report.killed_at:.1f}s while serving {report.in_flight} request(s); "
                f"restarted by docker and healthy again after "
                f"{report.back_after:.1f}s; {report.served_while_down} redemptions finished meanwhile",
            ]
            if stats.unfinished:
                self.failures.append(f"{stats.unfinished} redemptions never got a definite answer")
            if stats.refused:
                self.failures.append(f"refused redemptions: {stats.refused[:3]}")
            if any(s.balance_seen_wrong for s in shoppers):
                self.failures.append("a balance check showed a balance other than the shopper's running total")
            if report.served_while_down == 0:
                self.failures.append("no redemption finished while processor-1 was down")
            if per_status.get("500"):
                # 502/503 around the kill are the load balancer's and the contract's "submit again";
                # a 500 is a bug in a copy: show which requests and what the copies logged.
                self.failures.append(f"{per_status['500']} answers were 500: {self.explain_500s(compose)}")

            await self.refund(lb, emulator, shoppers, ct)
            await self.shared_limit(lb, ct, shoppers[0].code)
            await self.watch_endpoints(lb)
            self.reconcile()
            with self.timings.step("ledger vs commercetools") as d:
                agreement = await compare(shoppers, ct, ledger)
                d.append("agree to the cent" if agreement.agrees else "DISAGREE")
            return agreement
        finally:
            await lb.aclose()
            await ct.aclose()
            await ledger.aclose()

    @staticmethod
    def explain_500s(compose: Compose) -> str:
        lines = [line for line in compose("logs", "--no-color", "lb").splitlines() if re.search(r" 500 \d", line)]
        errors = []
        for service in ("processor-1", "processor-2"):
            for line in compose("logs", "--no-color", "--tail", "400", service).splitlines():
                if re.search(r'"level":\s*"(error|critical)"', line):
                    errors.append(error_summary(line))
        return "\n  ".join(["", *lines[:5], *errors[-6:]])

    async def refund(
        self, lb: httpx.AsyncClient, emulator: Emulator, shoppers: list[Shopper], ct: CommercetoolsSide
    ) -> None:
        """Checkout's refund: payment intents with an OAuth2 token, through the load balancer."""
        with self.timings.step("refund through payment intents (OAuth2)") as d:
            cart = await ct.cart(shoppers[0].carts[0])
            payment = cart["paymentInfo"]["payments"][0]["obj"]
            charge = next(t for t in payment["transactions"] if t["type"] == "Charge" and t["state"] == "Success")
            amount = min(99, int(charge["amount"]["centAmount"]))
            token = emulator.mint_token(scope=f"manage_checkout_payment_intents:{emulator.project_key}")
            response = await lb.post(
                f"/operations/payment-intents/{payment['id']}",
                json={
                    "actions": [{"action": "refundPayment", "amount": {"centAmount": amount, "currencyCode": "EUR"}}]
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            outcome = response.json().get("outcome") if response.status_code == 200 else response.text[:200]
            d.append(f"{amount} cents: {response.status_code} {outcome}")
            if outcome != "approved":
                self.failures.append(f"refund through payment intents answered {response.status_code} {outcome}")

    async def shared_limit(self, lb: httpx.AsyncClient, ct: CommercetoolsSide, code: str) -> None:
        """One session's balance checks, spread round-robin over both copies: the per-session limit
        (10 a minute by default) holds in total only when the copies share their counters in Redis."""
        if not image_setting_exists("REDIS_URL"):
            self.findings.append("shared rate limits: REDIS_URL not in this image's settings (issue 9): not run")
            return
        with self.timings.step("rate limit shared by both copies (Redis)") as d:
            _, session_id = await ct.cart_with_session(5000)
            statuses = []
            for _ in range(SHARED_LIMIT_TRIES):
                response = await lb.post("/balance", json={"code": code}, headers={"X-Session-Id": session_id})
                statuses.append(response.status_code)
            first_429 = statuses.index(429) + 1 if 429 in statuses else None
            d.append(f"{SHARED_LIMIT_TRIES} checks in one session: first 429 at #{first_429}")
            self.findings.append(f"one session's balance checks through both copies: {statuses}")
            # In-memory counters would allow 10 per copy: no 429 in 16 checks split between two copies.
            if first_429 is None:
                self.failures.append(f"the per-session limit did not hold across the copies: {statuses}")

    async def watch_endpoints(self, lb: httpx.AsyncClient) -> None:
        """/ready answers through the load balancer; /metrics only on a copy's loopback port."""
        ready = (await lb.get("/ready")).status_code
        public_metrics = (await lb.get("/metrics")).status_code
        async with httpx.AsyncClient(timeout=10) as direct:
            own_metrics = (await direct.get(f"http://127.0.0.1:{self.ports.processor_2}/metrics")).status_code
        self.findings.append(
            f"through HAProxy: /ready {ready}, /metrics {public_metrics} (denied at the LB); "
            f"processor-2's /metrics on loopback {own_metrics}"
        )
        if ready != 200 or public_metrics != 404 or own_metrics != 200:
            self.failures.append(f"/ready {ready}, public /metrics {public_metrics}, loopback /metrics {own_metrics}")

    def reconcile(self) -> None:
        assert self.compose is not None
        if not image_has_command("reconcile"):
            self.findings.append("reconcile: not in this image's CLI (issue 8 not landed): not run")
            return
        with self.timings.step("reconcile (compose exec, one pass)") as d:
            # Every shopper has stopped: nothing is in flight, so no grace period is needed.
            command = ["giftcard-connector", "reconcile", "--older-than", "0", "--json"]
            out = self.compose("exec", "-T", "processor-1", *command)
            d.append(out.strip().splitlines()[-1][:200] if out.strip() else "no output")

    # -- teardown ------------------------------------------------------------------------------------------
    def teardown(self) -> None:
        with self.timings.step("teardown") as d:
            if self.compose is not None and not self.args.keep:
                try:
                    self.compose("down", "--volumes", "--remove-orphans", "--timeout", "10")
                    d.append("containers and volume removed")
                except HostError as error:
                    d.append(f"compose down failed: {error}")
            if self.emulator is not None:
                self.emulator.stop()
            if not self.args.keep:
                shutil.rmtree(self.scratch, ignore_errors=True)
            d.append(f"dockerd {self.dockerd.restore() if not self.args.keep else 'kept (--keep)'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="container-check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--worktree", action="store_true", help="build from the working tree, not HEAD")
    parser.add_argument("--shoppers", type=int, default=6, help="shoppers at once (default 6)")
    parser.add_argument("--kill-after", type=float, default=5.0, help="seconds into the drive (default 5)")
    parser.add_argument("--run-after-back", type=float, default=4.0, help="drive on after the copy is back")
    parser.add_argument("--max-seconds", type=float, default=90.0, help="upper bound on the drive")
    parser.add_argument("--keep", action="store_true", help="leave the stack (and dockerd) running")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("container-check needs root (dockerd, debootstrap, containers)", file=sys.stderr)
        return 2
    check = Check(args)
    started = time.monotonic()
    agreement: Agreement | None = None
    try:
        check.build()
        admin_key, ca_pem = check.start_stack()
        agreement = asyncio.run(check.exercise(admin_key, ca_pem))
    except (HostError, httpx.HTTPError, RuntimeError) as error:
        check.failures.append(f"stopped: {error}")
    finally:
        check.teardown()
    print("\ncontainer-check: steps and timings")
    print(check.timings.table())
    print(f"  {'total':<10}  {time.monotonic() - started:7.1f}s")
    for line in check.findings:
        print(f"- {line}")
    if agreement is not None:
        print(
            f"- ledger vs commercetools: {agreement.cards_agreeing}/{agreement.cards} cards agree; "
            f"charged {agreement.charged_ct} / debited {agreement.debited_ledger}, refunded "
            f"{agreement.refunded_ct} / credited {agreement.credited_ledger} (cents); {agreement.payments} "
            f"payments, transactions {dict(sorted(agreement.transactions.items()))}; unsettled "
            f"{agreement.unsettled}; overpaid carts {agreement.overpaid_carts}"
        )
        check.failures += agreement.problems[:10]
        if agreement.unsettled:
            check.failures.append(f"{agreement.unsettled} transactions left Initial or Pending")
    for failure in check.failures:
        print(f"FAIL: {failure}")
    print("container-check:", "FAILED" if check.failures or agreement is None else "passed")
    return 1 if check.failures or agreement is None else 0


if __name__ == "__main__":
    sys.exit(main())
