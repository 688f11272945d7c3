"""Journeys to and from other formats: what a journey file is not, but meets.

Importers (Mermaid ``journey`` diagrams, spreadsheets) turn another format into
plain journey data and hand it to :func:`journey_yaml`, which writes it only
once the loader accepts it: an importer never leaves a partial or invalid
journey behind. Exporters read a loaded :class:`~journeymap.model.Journey`.
Each format is its own module, imported on first use.
"""

from __future__ import annotations

from .yamlfile import SCHEMA_MODELINE, check_output, checked, journey_data, journey_yaml

__all__ = ["SCHEMA_MODELINE", "check_output", "checked", "journey_data", "journey_yaml"]
