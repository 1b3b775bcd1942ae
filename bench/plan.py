"""Benchmark: the pure dunning planner, against a floor, on generated inputs.

    .venv/bin/python bench/plan.py [--customers 100000 --items 1000000] [--profile]

Generates, from a fixed seed, N customers and M open items whose due dates run
from 240 days before the planning day to 40 days after it, with history (Done
rows: the steps already sent for part of the overdue items) and pauses
(disputes, promises kept and lapsed, holds), under the two scenarios of
config.example.toml. Then measures, each in a fresh process (peak RSS is the
process's own, inputs included):

- inputs only: generating the debtors, items, history and pauses (the baseline
  every other measure carries);
- floor: a plain loop over the same items, grouping them by customer and
  summing their Decimal amounts;
- plan: ``sageconnect.dunning.planner.plan(...)`` over everything (its counts
  and a digest of every decision are taken after the clock stops: runs before
  and after a change must print the same digest).

The seconds are those of the measured section, timed inside the child (the
generation is not counted twice). ``--profile`` runs ``plan`` under cProfile in
this process instead and prints where the time goes. Results go to
bench/results/plan.md and stdout.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import hashlib
import io
import json
import pstats
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from _common import ROOT, Result, child, write_results

from sageconnect.dunning.interest import Rates
from sageconnect.dunning.message import Sender
from sageconnect.dunning.planner import (
    Company,
    Debtor,
    Done,
    Item,
    Pause,
    Plan,
    plan,
)
from sageconnect.dunning.settings import DunningConfig
from sageconnect.gcpause import paused

AS_OF = dt.date(2026, 11, 24)
SEED = 20261124
ZERO = Decimal("0.00")
STANDARD: list[dict[str, Any]] = [  # config.example.toml's [dunning.scenarios.standard]
    {"id": "courtesy", "days": -3, "channels": ["email"], "template": "courtesy"},
    {"id": "first_reminder", "days": 5, "channels": ["email"], "template": "first"},
    {
        "id": "second_reminder",
        "after_previous": 10,
        "channels": ["email"],
        "template": "second",
        "tone": "firm",
        "claim_indemnity": True,
    },
    {
        "id": "formal_notice",
        "days": 45,
        "channels": ["email", "letter"],
        "template": "formal_notice",
        "tone": "formal",
        "claim_interest": True,
        "claim_indemnity": True,
        "pay_within_days": 8,
        "registered": True,
        "requires_previous": True,
    },
    {
        "id": "escalation",
        "after_previous": 15,
        "channels": ["call"],
        "template": "escalation",
        "tone": "escalation",
    },
]
SETTINGS = DunningConfig.model_validate(
    {
        "scenarios": {
            "standard": {"steps": STANDARD},
            "key_accounts": {
                "steps": [
                    {**STANDARD[1], "days": 10},
                    {**STANDARD[4], "after_previous": 15},
                ]
            },
        },
        "rules": [{"scenario": "key_accounts", "min_open": "20000.00"}],
        "by_customer": {"C000050": "key_accounts"},
        "channels": {
            "email": {"kind": "folder", "path": "out"},
            "letter": {"kind": "folder", "path": "out"},
            "call": {"kind": "tasks", "path": "calls.jsonl"},
        },
    }
)
COMPANY = Company(code="bench", sender=Sender(name="Bench SAS"))


@dataclass(slots=True)
class Inputs:
    debtors: list[Debtor]
    items: list[Item]
    pauses: list[Pause]
    done: list[Done]


def generate(customers: int, items: int) -> Inputs:
    """Seeded inputs: the same arguments always give the same debtors and items."""
    rng = random.Random(SEED)
    debtors = [
        Debtor(
            id=n,
            code=f"C{n:06d}",
            name=f"Client {n}",
            category=rng.choice(("", "", "PME", "ASSOC")),
            consumer=rng.random() < 0.05,
            excluded=rng.random() < 0.01,
            email="" if rng.random() < 0.03 else f"compta{n}@client.example",
            address=("1 rue de la Paix", "75002 Paris"),
        )
        for n in range(1, customers + 1)
    ]
    owed: list[Item] = []
    done: list[Done] = []
    step = dt.timedelta
    for n in range(1, items + 1):
        customer = debtors[rng.randrange(customers)].code
        due = AS_OF + step(days=rng.randint(-240, 40))
        amount = Decimal(rng.randint(500, 1_500_000)).scaleb(-2)
        left = amount if rng.random() < 0.85 else (amount / 3).quantize(Decimal("0.01"))
        owed.append(
            Item(
                invoice_id=n,
                key=f"VE/{n}",
                customer=customer,
                number=f"FA{n:07d}",
                issued=due - step(days=30),
                due=due,
                amount=amount,
                open=left,
                to_chase=ZERO if rng.random() < 0.02 else left,
            )
        )
        late = (AS_OF - due).days
        # what went out already, as a past cycle would have sent it
        if late > -3 and rng.random() < 0.6:
            done.append(Done(n, "courtesy", "email", due - step(days=3)))
        if late >= 5 and rng.random() < 0.7:
            done.append(Done(n, "first_reminder", "email", due + step(days=5)))
            if late >= 15 and rng.random() < 0.6:
                done.append(Done(n, "second_reminder", "email", due + step(days=15)))
    pauses = [
        Pause(
            kind="dispute",
            customer=item.customer,
            invoice_id=item.invoice_id,
            until=None,
            reason="livraison contestée",
        )
        for item in rng.sample(owed, k=items // 100)
    ]
    pauses += [
        Pause(
            kind="promise",
            customer=item.customer,
            invoice_id=item.invoice_id,
            until=AS_OF + step(days=rng.randint(-10, 20)),  # some lapsed
            reason="virement annoncé",
        )
        for item in rng.sample(owed, k=items // 200)
    ]
    pauses += [
        Pause(
            kind="hold",
            customer=debtor.code,
            invoice_id=None,
            until=None,
            reason="procédure collective",
        )
        for debtor in rng.sample(debtors, k=customers // 500)
    ]
    return Inputs(debtors, owed, pauses, done)


def floor(inputs: Inputs) -> str:
    """The least any planner does: every item visited, grouped, amounts summed."""
    groups: dict[str, list[Decimal]] = defaultdict(list)
    for item in inputs.items:
        groups[item.customer].append(item.to_chase)
    totals = {code: sum(amounts, ZERO) for code, amounts in groups.items()}
    return f"{len(totals)} customers, {sum(totals.values(), ZERO)} in all"


def run_plan(inputs: Inputs) -> Plan:
    with paused():  # as Planner.batches
        return plan(
            company=COMPANY,
            debtors=inputs.debtors,
            items=inputs.items,
            pauses=inputs.pauses,
            done=inputs.done,
            settings=SETTINGS,
            rates=Rates.build(),
            as_of=AS_OF,
        )


def describe(result: Plan) -> str:
    """Counts and a digest of the plan, outside the measured section."""
    lines = sum(len(p.notice.lines) for p in result.reminders)
    return (
        f"{len(result.reminders)} reminders listing {lines} lines;"
        f" {len(result.skipped)} skipped rows; digest {digest(result)}"
    )


def digest(result: Plan) -> str:
    """What the plan decided, in 16 hex digits: before/after runs compare it."""
    h = hashlib.sha256()
    for p in result.reminders:
        h.update(repr((p.notice, p.customer_id, p.recipient, p.triggers)).encode())
        h.update(repr((p.opens, p.registered)).encode())
    for s in result.skipped:
        h.update(f"{s.customer}\x1f{s.invoice}\x1f{s.reason}\n".encode())
    return h.hexdigest()[:16]


MEASURES: dict[str, Callable[[Inputs], str | Plan]] = {
    "inputs": lambda inputs: f"{len(inputs.items)} items",
    "floor": floor,
    "plan": run_plan,
}
LABELS = {
    "inputs": "inputs only: generate debtors, items, history, pauses",
    "floor": "floor: group by customer + sum Decimal",
    "plan": "plan(...)",
}


def measure(name: str, customers: int, items: int) -> None:
    """In the child: generate, then time one measure; print JSON on stdout."""
    started = time.perf_counter()
    inputs = generate(customers, items)
    generated = time.perf_counter() - started
    if name == "inputs":
        seconds, found = generated, MEASURES[name](inputs)
    else:
        started = time.perf_counter()
        found = MEASURES[name](inputs)
        seconds = time.perf_counter() - started
    out = found if isinstance(found, str) else describe(found)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "out": out,
                "history": len(inputs.done),
                "pauses": len(inputs.pauses),
            }
        )
    )


def profile(customers: int, items: int, top: int) -> None:
    inputs = generate(customers, items)
    profiler = cProfile.Profile()
    profiler.enable()
    run_plan(inputs)
    profiler.disable()
    for key in ("tottime", "cumulative"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(key).print_stats(top)
        print(text.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--profile", action="store_true", help="cProfile plan(...)")
    parser.add_argument("--top", type=int, default=25, help="--profile: rows shown")
    parser.add_argument("--measure", choices=list(MEASURES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, args.customers, args.items)
        return
    if args.profile:
        profile(args.customers, args.items, args.top)
        return
    rows: list[Result] = []
    notes = []
    for name in MEASURES:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", name]
        wall, rss, out = child(
            [*cmd, "--customers", str(args.customers), "--items", str(args.items)]
        )
        found = json.loads(out)
        rows.append((LABELS[name], args.items, found["seconds"], rss))
        notes.append(
            f"- {name}: {found['out']} ({wall:.1f} s for the whole child process,"
            " generation included)"
        )
        print(f"{LABELS[name]}: {found['seconds']:.2f} s, {rss} MiB", flush=True)
    table = write_results("plan", rows, unit="items")
    with (ROOT / "bench" / "results" / "plan.md").open("a", encoding="utf-8") as f:
        f.write(
            f"\n{args.customers} customers, {args.items} open items,"
            f" {found['history']} history rows, {found['pauses']} pauses;"
            f" planned as of {AS_OF}. Seconds: the measured section only, timed"
            " inside the child; peak RSS: the child's, inputs included.\n\n"
            + "\n".join(notes)
            + "\n"
        )
    print(table)


if __name__ == "__main__":
    main()
