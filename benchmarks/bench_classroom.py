"""A classroom on one server: ``workbench serve --max-trainings 2`` on this machine and STUDENTS
browser sessions (Playwright contexts in Debian's headless Chromium, loopback only).

Students arrive over ARRIVAL_S seconds, each opening one page. Half train a small network in
the Plane Studio (beyond two at once they wait in line and the page says "Waiting: 3rd in line
..."); the other half move the sample size in the Estimator Lab until the result card shows the
new n. The run is bounded: at most ACTIONS Lab changes per student, activity ends ACTIVE_S
seconds after the last arrival, every step gives up after STEP_TIMEOUT_MS, then every Stop, and
the browser closes. It prints the latency of each page action (p50, p95, max) and the server's
memory (RSS) before, during (mean, peak) and after; nothing is asserted.

Latencies include drawing in the browser: here the students' Chromium and the server share
the same cores, so they overstate what 20 students on their own laptops would see.

    python -m benchmarks classroom              # WORKBENCH_BENCH_STUDENTS=20 by default
"""
from __future__ import annotations

import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

# the browser tests' Chromium (Debian's, never `playwright install`) and process helpers
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, free_port, stop_process

STUDENTS = int(os.environ.get("WORKBENCH_BENCH_STUDENTS", "20"))
MAX_TRAININGS = 2
EPOCHS = 30          # per Plane Studio run: short, so the line moves within the minute
ARRIVAL_S = 30.0     # students open their pages one after another over this many seconds
ACTIVE_S = 30.0      # seconds of student activity after the last arrival
ACTIONS = 10         # Estimator Lab changes per student at most
STEP_TIMEOUT_MS = 90_000
REPO = Path(__file__).resolve().parents[1]


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MiB (Linux /proc, no extra dependency)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds ``pid`` has used (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(port: int, runs: str, log) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "workbench", "serve", "--port", str(port),
                             "--runs-dir", runs, "--max-trainings", str(MAX_TRAININGS)],
                            cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"workbench serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("workbench serve did not answer within 180 s")


class Recorder:
    def __init__(self):
        self.latency: dict[str, list[float]] = {}
        self.places: list[str] = []
        self.failures: list[str] = []

    def add(self, action: str, seconds: float) -> None:
        self.latency.setdefault(action, []).append(seconds)

    async def time(self, action: str, coro) -> bool:
        began = time.monotonic()
        try:
            await coro
        except Exception as exc:  # a timeout is a figure too: counted, not fatal
            self.failures.append(f"{action}: {type(exc).__name__}: {str(exc)[:120]}")
            return False
        self.add(action, time.monotonic() - began)
        return True


async def opened(page, url: str, ready) -> None:
    """Open ``url`` and wait until ``ready`` (a locator) shows."""
    from playwright.async_api import expect

    await page.goto(url, wait_until="commit")
    await expect(ready).to_be_visible(timeout=STEP_TIMEOUT_MS)


async def studio_student(page, url: str, rec: Recorder, until: float) -> None:
    from playwright.async_api import expect

    status = page.locator(".wb-status-text")
    if not await rec.time("open Plane Studio -> ready", opened(
            page, url + "plane_studio", page.locator(".wb-start button"))):
        return
    box = page.locator(".wb-epochs input")
    await box.fill(str(EPOCHS))
    await box.press("Enter")
    await page.locator(".wb-start button").click()
    answered = re.compile("Starting|Training|Waiting|Finished")
    if not await rec.time("Start -> status", expect(status).to_have_text(
            answered, timeout=STEP_TIMEOUT_MS)):
        return
    text = await status.inner_text()
    if text.startswith("Waiting"):
        rec.places.append(text)
    while time.monotonic() < until:  # train (or wait) until done or the time is up
        text = await status.inner_text()
        if text.startswith(("Finished", "Stopped", "Failed")):
            return
        await page.wait_for_timeout(1000)
    await page.locator(".wb-stop button").click()
    await rec.time("Stop -> stopped", expect(status).to_have_text(
        re.compile("Stopped|Finished"), timeout=STEP_TIMEOUT_MS))


async def lab_student(page, url: str, rec: Recorder, until: float, index: int) -> None:
    from playwright.async_api import expect

    # the card's text lives in a shadow root: match an element inside it
    result = page.locator(".wb-symbol")
    if not await rec.time("open Estimator Lab -> estimate", opened(
            page, url + "estimator_lab", page.locator(".wb-estimate-value"))):
        return
    box = page.locator(".wb-n input")
    for step in range(ACTIONS):
        if time.monotonic() >= until:
            return
        n = 300 + 100 * ((index + step) % 8)  # a new value each time
        if n == 500:  # the default: the card would not change
            n = 1200
        await box.fill(str(n))
        await box.press("Enter")
        await rec.time("Lab: set n -> new estimate", expect(result).to_contain_text(
            f"n = {n}", timeout=STEP_TIMEOUT_MS))
        await page.wait_for_timeout(2000)  # a student reads the result


async def local_only(route, request) -> None:
    host = urllib.parse.urlsplit(request.url).hostname or ""
    if host in ("127.0.0.1", "localhost") or request.url.startswith(("data:", "blob:")):
        await route.continue_()
    else:
        await route.abort("internetdisconnected")


async def classroom(url: str, server_pid: int) -> tuple[Recorder, dict]:
    from playwright.async_api import async_playwright

    rec, memory = Recorder(), {"during": []}
    sampling = True

    async def sample():
        while sampling:
            memory["during"].append(rss_mb(server_pid))
            await asyncio.sleep(1.0)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        sampler = asyncio.create_task(sample())
        contexts = [await browser.new_context(viewport={"width": 1280, "height": 900})
                    for _ in range(STUDENTS)]
        for context in contexts:  # loopback only: anything else is aborted, not waited for
            await context.route("**/*", local_only)
        pages = [await c.new_page() for c in contexts]
        for page in pages:
            page.set_default_timeout(STEP_TIMEOUT_MS)
        until = time.monotonic() + ARRIVAL_S + ACTIVE_S

        async def arrive(i, page):
            await asyncio.sleep(i * ARRIVAL_S / STUDENTS)
            if i % 2 == 0:
                await studio_student(page, url, rec, until)
            else:
                await lab_student(page, url, rec, until, i)

        jobs = [arrive(i, p) for i, p in enumerate(pages)]
        # bounded: the last Stop gets one step's time, then whatever is left is cancelled
        outcomes = await asyncio.gather(
            *(asyncio.wait_for(j, ARRIVAL_S + ACTIVE_S + 2 * STEP_TIMEOUT_MS / 1000)
              for j in jobs), return_exceptions=True)
        rec.failures += [f"student: {type(o).__name__}: {str(o)[:120]}" for o in outcomes
                         if isinstance(o, BaseException)]
        for context in contexts:
            await context.close()
        await browser.close()
        sampling = False
        await sampler
    return rec, memory


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    if not CHROMIUM.exists():
        print(f"skipped: {CHROMIUM} is missing (make browser installs it)")
        return
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryDirectory(prefix="bench-classroom-") as tmp, \
            open(Path(tmp) / "serve.log", "w") as log:
        server = start_server(port, str(Path(tmp) / "runs"), log)
        try:
            time.sleep(3)  # the kNN warm-up thread settles
            before, cpu_before = rss_mb(server.pid), cpu_s(server.pid)
            began = time.monotonic()
            rec, memory = asyncio.run(classroom(url, server.pid))
            wall = time.monotonic() - began
            cpu = cpu_s(server.pid) - cpu_before
            time.sleep(10)  # closed sessions are cleaned up
            after = rss_mb(server.pid)
            answers = urllib.request.urlopen(url, timeout=30).status
        finally:
            stop_process(server)
        log_text = (Path(tmp) / "serve.log").read_text()
    tracebacks = log_text.count("Traceback")
    # the exception line that ends each traceback
    errors = re.findall(r"^Traceback.*?\n(?! )(.+)$", log_text, flags=re.MULTILINE | re.DOTALL)
    print(f"{STUDENTS} students (browser contexts) on one server, --max-trainings "
          f"{MAX_TRAININGS}, {os.cpu_count()} cores shared with the browser; {wall:.0f} s, "
          f"server CPU {cpu:.0f} s ({cpu / wall:.0%} of one core)")
    print(f"{'action':<32}{'n':>5}{'p50 s':>9}{'p95 s':>9}{'max s':>9}")
    for action, values in rec.latency.items():
        print(f"{action:<32}{len(values):>5}{statistics.median(values):>9.2f}"
              f"{percentile(values, 0.95):>9.2f}{max(values):>9.2f}")
    during = memory["during"] or [float("nan")]
    print(f"server RSS: before {before:.0f} MiB, during mean {statistics.mean(during):.0f} / "
          f"peak {max(during):.0f} MiB, after {after:.0f} MiB")
    places = sorted(int(m.group(1)) for t in rec.places
                    if (m := re.search(r"(\d+)(?:st|nd|rd|th) in line", t)))
    example = f', e.g. "{rec.places[-1]}"' if rec.places else ""
    print(f"{len(places)} Start clicks answered with a place in line (places {places}){example}")
    print(f"index page after the run: HTTP {answers}; tracebacks in the server log: "
          f"{tracebacks}; failed or timed-out actions: {len(rec.failures)}")
    for error in sorted(set(errors))[:5]:
        print("   server:", error[:160])
    for failure in rec.failures[:5]:
        print("   browser:", failure.splitlines()[0])


if __name__ == "__main__":
    main()
