"""Township boundaries (GeoJSON), for the compliance map and the register import's "is this
point in the county" check. Kept apart from `area` because phones pull areas and never need
the polygons, which can be large."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from server.models._base import json_column, tz_column, utcnow


class AreaBoundary(SQLModel, table=True):
    __tablename__ = "area_boundary"

    area_id: int = Field(primary_key=True, foreign_key="area.id")
    # a GeoJSON geometry: Polygon or MultiPolygon, [lon, lat] in WGS-84 degrees
    geometry: dict = Field(sa_column=json_column(False))
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float
    updated_at: datetime = Field(default_factory=utcnow, sa_column=tz_column(False))
    updated_by: int | None = Field(default=None, foreign_key="user.id")
