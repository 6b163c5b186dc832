"""The SMS outbox cannot fill the disk: it keeps its newest rows only."""

from __future__ import annotations

import pytest

from node import db, pg
from scripts.cluster import ClusterConfig
from tests.helpers import random_phone


async def test_the_outbox_keeps_only_its_newest_rows(
    redis_cluster: ClusterConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "SMS_OUTBOX_ROWS", 3)
    pool = pg.Pool(redis_cluster.effective_database_url(), size=1)
    try:
        phones = [random_phone() for _ in range(5)]
        for phone in phones:
            await db.record_sms(pool, phone=phone, code="123456", body="test", node="test")
        rows = await pg.fetch(pool, "SELECT phone FROM sms_outbox ORDER BY id")
        assert [r["phone"] for r in rows] == phones[-3:]
        latest = await db.latest_sms(pool, phones[-1])
        assert latest is not None and latest["code"] == "123456"
    finally:
        await pool.close()
