"""A consumer service used only by the reliability tests: it records what its idempotent
handler applies, and fails on purpose while the file named by PROBE_FAIL_FILE exists."""
import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from common.db import make_base
from common.service import Database, PlatformService, handles

Base, platform = make_base()


class Applied(Base):
    __tablename__ = "applied"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    entity_id: Mapped[str] = mapped_column(sa.String(64))


class ProbeService(PlatformService):
    name = "probe"
    db = Database(platform)

    @handles("customers", "customer.created")
    def on_customer_created(self, uow, event):
        fail_file = os.environ.get("PROBE_FAIL_FILE")
        if fail_file and Path(fail_file).exists():
            raise RuntimeError("probe told to fail")
        uow.session.add(Applied(event_id=event["id"], entity_id=event["entity_id"]))
