"""One version story: the package, the rule engine, and the rule pack that decides.

``oncoscrub --version``, the ``oncoscrub_build_info`` metric and the worker's start-up line
all tell it from here. The pack is named by its version and the SHA-256 of its data files
(the hash every decision records), computed from the files without parsing them.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from rules import ENGINE_VERSION
from rules.pack import DATA_FILES, PACK_NAME, RULE_PACK_VERSION, content_sha256, current_texts

PACKAGE = "oncoscrub"


def package_version() -> str:
    """The installed distribution's version; a source tree run without installing has none."""
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True, slots=True)
class VersionStory:
    package: str
    engine: str
    pack_name: str
    pack_version: str
    pack_sha256: str
    pack_dir: Path | None  # None: the pack shipped with the engine

    def lines(self) -> list[str]:
        where = "shipped" if self.pack_dir is None else f"from {self.pack_dir}"
        return [
            f"{PACKAGE} {self.package}",
            f"engine {self.engine}",
            f"rule pack {self.pack_name} {self.pack_version} ({where})",
            f"rule pack sha256 {self.pack_sha256}",
        ]

    def labels(self) -> dict[str, str]:
        """As ``oncoscrub_build_info``'s labels and the start-up line's fields."""
        return {
            "version": self.package,
            "engine_version": self.engine,
            "rule_pack": self.pack_version,
            "rule_pack_sha256": self.pack_sha256,
        }


def version_story(pack_dir: Path | None = None) -> VersionStory:
    """The story of a worker deciding with the pack in ``pack_dir`` (None: the shipped one).

    Raises ``OSError`` when the directory lacks a data file or its VERSION.
    """
    if pack_dir is None:
        version, texts = RULE_PACK_VERSION, current_texts()
    else:
        version = (pack_dir / "VERSION").read_text(encoding="utf-8").strip()
        texts = {name: (pack_dir / name).read_text(encoding="utf-8") for name in DATA_FILES}
    return VersionStory(
        package=package_version(),
        engine=ENGINE_VERSION,
        pack_name=PACK_NAME,
        pack_version=version,
        pack_sha256=content_sha256(texts),
        pack_dir=pack_dir,
    )
