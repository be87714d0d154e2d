"""Holiday years an administrator imported (State Council notices), shared by every process.

The packaged `engine/data/holidays.json` is the baseline; a row here adds a year or replaces the
packaged one. Each row keeps the notice it came from and who imported it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, JSONType, UTCDateTime


class CalendarYear(Base):
    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entry: Mapped[dict[str, Any]] = mapped_column(JSONType)  # holiday-cn shape: year, papers, days
    source: Mapped[str] = mapped_column(Text)  # the notice (title, number or URL)
    revision: Mapped[int] = mapped_column(Integer)  # 1 on first import, +1 on each replacement
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
