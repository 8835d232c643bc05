"""OTP engine figures: verification against bare HMACs, and the identify index at 100,000 tokens.

Why: every figure is a ratio to ``hmac.digest`` over the same keys measured in the same run, so
a busy or slow machine moves both sides together. The last line is one JSON object.
Run: ``.venv/bin/python bench/otp.py [--tokens N]``.
"""

from __future__ import annotations

import argparse
import gc
import hmac
import json
import random
import statistics
import struct
import time
from collections.abc import Callable
from pathlib import Path

from oathdesk.otp import CodeIndex, OtpKey, OtpState, match_totp, time_step, verify

AT = 1_700_000_000
PACK = struct.Struct(">Q").pack


def best(*runs: Callable[[], object], rounds: int = 7) -> list[float]:
    """The fastest of ``rounds`` runs of each, in seconds, the runs taking turns so that a busy
    moment on this shared machine slows all sides alike."""
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(rounds):
        for spent, run in zip(times, runs, strict=True):
            start = time.perf_counter()
            run()
            spent.append(time.perf_counter() - start)
    return [min(spent) for spent in times]


def paired(
    bare: Callable[[], object], ours: Callable[[], object], rounds: int = 15
) -> tuple[float, float, float]:
    """Fastest bare and ours runs, interleaved round by round so both see the same load, and
    their ratio (bare time / our time): the figures printed beside it give the same ratio."""
    bare_times, our_times = [], []
    for _ in range(rounds):
        b, o = best(bare, ours, rounds=1)
        bare_times.append(b)
        our_times.append(o)
    return min(bare_times), min(our_times), min(bare_times) / min(our_times)


def bare_run(keys: list[bytes], per_key: int = 1) -> Callable[[], None]:
    """``per_key`` plain ``hmac.digest`` calls per key: the yardstick for every figure."""
    messages = [PACK(time_step(AT) + step) for step in range(per_key)]

    def run() -> None:
        digest = hmac.digest
        for message in messages:
            for key in keys:
                digest(key, message, "sha1")

    return run


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 1e6


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_verify(keys: list[bytes]) -> dict[str, float]:
    otp_keys = [OtpKey(k) for k in keys]
    codes = [k.code_at(AT) for k in otp_keys]
    wrong = [f"{(int(c) + 1) % 10**6:06d}" for c in codes]
    state = OtpState()
    pairs = list(zip(otp_keys, codes, strict=True))

    def right() -> None:
        for key, code in pairs:
            verify(key, code, at=AT, state=state)

    def miss() -> None:
        for key, code in zip(otp_keys, wrong, strict=True):
            verify(key, code, at=AT, state=state)

    def one_off() -> None:
        for key, code in zip(keys, codes, strict=True):
            match_totp(key, code, AT, window=0)

    n = len(keys)
    bare1, ok, ratio1 = paired(bare_run(keys, 1), right)
    bare3, bad, ratio3 = paired(bare_run(keys, 3), miss)
    (single,) = best(one_off)
    print(f"verify, {n} keys, cached OtpKey, code at the expected step (1 HMAC each):")
    print(f"  {n / ok:,.0f}/s   bare hmac.digest {n / bare1:,.0f}/s   ratio {ratio1:.2f}")
    print("verify, wrong code, window ±1 (3 HMACs each):")
    print(f"  {n / bad:,.0f}/s   3 bare hmac.digest {n / bare3:,.0f}/s   ratio {ratio3:.2f}")
    print(f"match_totp one-off (builds the key each call, window 0): {n / single:,.0f}/s")
    return {
        "verify_per_s": round(n / ok),
        "bare_hmac_per_s": round(n / bare1),
        "verify_ratio": round(ratio1, 2),
        "verify_miss_window1_per_s": round(n / bad),
        "verify_miss_ratio": round(ratio3, 2),
        "match_totp_one_off_per_s": round(n / single),
    }


def bench_index(keys: list[bytes], lookups: int) -> dict[str, float]:
    (bare,) = best(bare_run(keys), rounds=3)
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    index = CodeIndex(((f"{i:08d}", OtpKey(k), OtpState()) for i, k in enumerate(keys)), at=AT)
    build = time.perf_counter() - start
    memory = rss_mb() - before  # resident: OpenSSL's hash states are invisible to tracemalloc
    step = time_step(AT)
    moves = iter(range(1, 100))
    bare_again, refresh, refresh_ratio = paired(
        bare_run(keys), lambda: index.advance((step + next(moves)) * 30), rounds=5
    )
    bare = min(bare, bare_again)
    now_at = (step + 5) * 30 + 5  # the five refreshes above moved the index five steps
    now = time_step(now_at)
    rng = random.Random(6238)
    picks = [rng.randrange(len(keys)) for _ in range(lookups)]
    probe = [OtpKey(keys[i]) for i in picks]
    one_ns, two_ns, ambiguous = [], [], 0
    for key in probe:
        first, second = key.code(now - 1), key.code(now)
        t = time.perf_counter_ns()
        found = index.identify([second], now_at)
        one_ns.append(time.perf_counter_ns() - t)
        ambiguous += len(found) > 1
        t = time.perf_counter_ns()
        pair = index.identify([first, second], now_at)
        two_ns.append(time.perf_counter_ns() - t)
        assert len(pair) == 1, "two codes must leave one token"
    n = len(keys)
    one_ms = [v / 1e6 for v in one_ns]
    two_ms = [v / 1e6 for v in two_ns]
    print(f"identify index, {n} tokens (30 s, SHA-1, 6 digits), window ±1 (3 steps):")
    print(f"  {n} bare hmac.digest: {bare:.3f} s")
    print(f"  build (keys + 3 steps): {build:.3f} s = {build / bare:.2f}x the bare HMACs")
    print(f"  step refresh: {refresh:.3f} s = {1 / refresh_ratio:.2f}x the bare HMACs")
    print(f"  memory: {memory:.0f} MB resident, {memory * 1e6 / n:.0f} bytes per token")
    print(
        f"  one code: p50 {statistics.median(one_ms):.3f} ms, p99 {percentile(one_ms, 0.99):.3f} "
        f"ms, {ambiguous}/{lookups} matched more than one token"
    )
    print(
        f"  two codes: p50 {statistics.median(two_ms):.3f} ms, p99 {percentile(two_ms, 0.99):.3f} "
        "ms, always one token"
    )
    return {
        "tokens": n,
        "bare_hmacs_s": round(bare, 4),
        "index_build_s": round(build, 4),
        "index_build_ratio": round(build / bare, 2),
        "step_refresh_s": round(refresh, 4),
        "step_refresh_ratio": round(1 / refresh_ratio, 2),
        "index_memory_mb": round(memory, 1),
        "one_code_p50_ms": round(statistics.median(one_ms), 4),
        "one_code_p99_ms": round(percentile(one_ms, 0.99), 4),
        "one_code_ambiguous_share": round(ambiguous / lookups, 4),
        "two_code_p50_ms": round(statistics.median(two_ms), 4),
        "two_code_p99_ms": round(percentile(two_ms, 0.99), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=100_000)
    parser.add_argument("--verify-keys", type=int, default=10_000)
    parser.add_argument("--lookups", type=int, default=2_000)
    args = parser.parse_args()
    rng = random.Random(4226)
    keys = [rng.randbytes(20) for _ in range(args.tokens)]
    figures = bench_verify(keys[: args.verify_keys])
    figures |= bench_index(keys, args.lookups)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
