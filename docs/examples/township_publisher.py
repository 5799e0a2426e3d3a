"""A township system tells daiban that a citizen brought the materials a case was waiting for.

Uses only `daiban_contracts` (the wire contracts) and nats-py (the township's own NATS client):

    pip install daiban-contracts nats-py
    python township_publisher.py --nats nats://township-nats:4222 --creds jiangshan-hall.creds \
        --system jiangshan-hall --case 370285101294-20260105-0007

It builds a `daiban.case.supplemented.v1` envelope whose source is the system's
(`/systems/jiangshan-hall`), publishes it to the system's ingress subject
(`daiban.370285.101.294.ingress.jiangshan-hall.case.supplemented`) with the envelope id as
`Nats-Msg-Id` (JetStream drops a second copy within its dedupe window; intake's inbox drops any
later one), and prints the stream and sequence JetStream acknowledged. Intake applies it through
its own supplement command, or dead-letters it with the reason (docs/township-systems.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Sequence
from datetime import UTC, datetime

import nats

from daiban_contracts.case import CaseSupplemented, StaffRef
from daiban_contracts.envelope import Envelope, make_envelope
from daiban_contracts.ingress import system_source
from daiban_contracts.subjects import Subjects

TOWNSHIP = "370285101000"  # 姜山镇便民服务中心
VILLAGE_POINT = "370285101294"  # the village point where the case was accepted


def supplement(
    case_number: str, materials: Sequence[str], system: str, now: datetime | None = None
) -> Envelope:
    """The envelope of one supplement, recorded by the township centre's clerk in `system`."""
    moment = now or datetime.now(UTC)
    payload = CaseSupplemented(
        case_number=case_number,
        accepting_org=VILLAGE_POINT,
        material_codes=tuple(materials),
        supplemented_at=moment,
        recorded_by=StaffRef(staff_id="township-clerk", name="镇便民服务中心窗口人员", org=TOWNSHIP),
    )
    return make_envelope(
        payload,
        source=system_source(system),
        subject=case_number,
        org=VILLAGE_POINT,
        actor="township-clerk",
        time=moment,
    )


def ingress_subject(subjects: Subjects, envelope: Envelope, system: str) -> str:
    return subjects.ingress(envelope.org, system, envelope.type)


async def publish(
    nats_url: str, envelope: Envelope, subject: str, creds: str | None = None
) -> tuple[str, int]:
    # The credential daiban issued for the system (`daiban systems issue`); none on a dev server.
    nc = await nats.connect(nats_url, name="township-window-system", user_credentials=creds)
    try:
        ack = await nc.jetstream().publish(subject, envelope.to_bytes(), headers={"Nats-Msg-Id": envelope.id})
        return ack.stream, ack.seq
    finally:
        await nc.drain()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--nats", default=os.environ.get("NATS_URL", "nats://127.0.0.1:4222"))
    parser.add_argument("--root", default=os.environ.get("DAIBAN_SUBJECT_ROOT", "daiban"))
    parser.add_argument("--creds", default=None, help="the system's NATS credentials file")
    parser.add_argument("--system", default="jiangshan-hall", help="the system's id, as registered")
    parser.add_argument("--case", required=True, help="the case number, e.g. 370285101294-20260105-0007")
    parser.add_argument("--material", action="append", default=None, help="material code (repeatable)")
    args = parser.parse_args(argv)
    envelope = supplement(args.case, args.material or ["M01"], args.system)
    subject = ingress_subject(Subjects(root=args.root), envelope, args.system)
    stream, seq = asyncio.run(publish(args.nats, envelope, subject, args.creds))
    print(f"published {envelope.type} {envelope.id} to {subject}: {stream} #{seq}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
