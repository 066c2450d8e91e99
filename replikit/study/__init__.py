"""The study: its manifest model (``study.yaml``), source kinds, loading."""

from replikit.study.loading import json_schema, list_studies, load_study, study_path
from replikit.study.model import (
    Artifact,
    Claim,
    Deviation,
    Expected,
    Experiment,
    Hardware,
    HardwareSpec,
    LevelCheck,
    ManifestError,
    Pair,
    Profile,
    Resources,
    Study,
    Tolerance,
)
from replikit.study.sources import (
    SOURCE_KINDS,
    GitSource,
    PathSource,
    PypiSource,
    Source,
    UrlSource,
    source_kind,
)

__all__ = [
    "Artifact", "Claim", "Deviation", "Expected", "Experiment", "GitSource", "Hardware",
    "HardwareSpec", "LevelCheck", "ManifestError",
    "Pair", "PathSource", "Profile", "PypiSource", "Resources", "Source", "Study", "Tolerance",
    "SOURCE_KINDS", "UrlSource", "json_schema", "list_studies", "load_study", "source_kind",
    "study_path",
]
