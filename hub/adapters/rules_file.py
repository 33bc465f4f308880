"""The Marac areas' rule settings in force: HUB_RULES_FILE, or the packaged defaults."""

from __future__ import annotations

from hub.domain.areas import AreaBook, load_areas
from hub.settings import Settings


def load_area_book(settings: Settings) -> AreaBook:
    """Read and check the areas file; AreaSettingsError names the line and the problem."""
    path = getattr(settings, "rules_file", None)
    if path is None:
        return load_areas()
    return load_areas(path.read_text("utf-8"), str(path))
