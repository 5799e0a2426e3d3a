"""A township system tells daiban that a citizen brought the materials a case was waiting for.

Uses only `daiban_contracts` (the wire contracts) and nats-py (the township's own NATS client),
with the credential the node's operators issued for the system
(`daiban systems issue --township 370285101000 --system jiangshan-hall` prints it and writes it
to a file):

    pip install daiban-contracts nats-py
    python township_publisher.py --credential jiangshan-hall.json --case 370285101294-20260105-0007

It builds a `daiban.case.supplemented.v1` envelope whose source is the system's, publishes it to
the system's own ingress subject (`Subjects.ingress`: the only subjects its credential may publish
to; the plain event subject belongs to intake), with the envelope id as `Nats-Msg-Id` (JetStream
drops a second copy within its dedupe window), and prints the stream and sequence JetStream
acknowledged. Intake reads it there and records the supplement under its own name.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime

import nats

from daiban_contracts.case import CaseSupplemented, StaffRef
from daiban_contracts.envelope import Envelope, make_envelope
from daiban_contracts.ingress import system_actor, system_source
from daiban_contracts.subjects import Subjects

TOWNSHIP = "370285101000"  # 姜山镇便民服务中心
VILLAGE_POINT = "370285101294"  # the village point where the case was accepted


def supplement(
    case_number: str, materials: Sequence[str], system: str, now: datetime | None = None
) -> Envelope:
    """The envelope of one supplement, recorded by the township centre's clerk."""
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
        actor=system_actor(system),
        time=moment,
    )


def ingress_subject(subjects: Subjects, credential: dict[str, str], envelope: Envelope) -> str:
    return subjects.ingress(envelope.org, credential["system"], envelope.type)


async def publish(
    nats_url: str, credential: dict[str, str], envelope: Envelope, subjects: Subjects
) -> tuple[str, int]:
    nc = await nats.connect(
        nats_url,
        name=credential["system"],
        user=credential["user"],
        password=credential["password"],
        # The credential may read replies (the stream's ack) on its own inbox only.
        inbox_prefix=credential["inbox_prefix"],
    )
    try:
        ack = await nc.jetstream().publish(
            ingress_subject(subjects, credential, envelope),
            envelope.to_bytes(),
            headers={"Nats-Msg-Id": envelope.id},
        )
        return ack.stream, ack.seq
    finally:
        await nc.drain()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--credential", required=True, help="the JSON file `daiban systems issue` wrote")
    parser.add_argument("--nats", default=os.environ.get("NATS_URL"), help="overrides the credential's url")
    parser.add_argument("--root", default=os.environ.get("DAIBAN_SUBJECT_ROOT", "daiban"))
    parser.add_argument("--case", required=True, help="the case number, e.g. 370285101294-20260105-0007")
    parser.add_argument("--material", action="append", default=None, help="material code (repeatable)")
    args = parser.parse_args(argv)
    with open(args.credential, encoding="utf-8") as handle:
        credential = json.load(handle)
    envelope = supplement(args.case, args.material or ["M01"], credential["system"])
    subjects = Subjects(root=args.root)
    stream, seq = asyncio.run(publish(args.nats or credential["url"], credential, envelope, subjects))
    subject = ingress_subject(subjects, credential, envelope)
    print(f"published {envelope.type} {envelope.id} to {subject}: {stream} #{seq}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
