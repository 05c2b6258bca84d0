"""Ultrasound guidance analysis summaries: one row per analysed cine, keyed for linking to procedures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from painguide.store.base import Base, UTCDateTime, utcnow

__all__ = ["SonoAnalysisRow"]


class SonoAnalysisRow(Base):
    """Summary of one ultrasound guidance analysis (times in s, positions in mm, areas in mm²).

    ``timeline`` holds the per-frame series of the review chart (see
    :func:`painguide.sono.service.timeline_of`); ``cine_file`` names the analysed cine kept under
    ``data_dir/sono`` (``None`` when it was not kept).
    """

    __tablename__ = "sono_analysis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(100), nullable=False)
    study_instance_uid: Mapped[str | None] = mapped_column(String(64), index=True)
    sop_instance_uid: Mapped[str | None] = mapped_column(String(64), index=True)
    source_name: Mapped[str] = mapped_column(String(300), nullable=False)
    frames: Mapped[int] = mapped_column(Integer, nullable=False)
    duration_s: Mapped[float] = mapped_column(Float, nullable=False)
    needle_visible_fraction: Mapped[float] = mapped_column(Float, nullable=False)
    final_tip_x_mm: Mapped[float | None] = mapped_column(Float)
    final_tip_z_mm: Mapped[float | None] = mapped_column(Float)
    final_angle_deg: Mapped[float | None] = mapped_column(Float)
    injection_start_s: Mapped[float | None] = mapped_column(Float)
    spread_onset_s: Mapped[float | None] = mapped_column(Float)
    max_spread_area_mm2: Mapped[float] = mapped_column(Float, nullable=False)
    warning_count: Mapped[int] = mapped_column(Integer, nullable=False)
    summary: Mapped[dict[str, object]] = mapped_column(JSON, nullable=False)
    events: Mapped[list[dict[str, object]]] = mapped_column(JSON, nullable=False)
    timeline: Mapped[dict[str, list[object]] | None] = mapped_column(JSON)
    cine_file: Mapped[str | None] = mapped_column(String(100))
