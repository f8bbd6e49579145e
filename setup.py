"""The one build step pyproject.toml cannot say: the repository's resources/ (icons, the reference catalog and
its license) go into the wheel as b24explorer/resources/, where b24explorer/core/resource_files.py finds them once
installed. (An editable install reads them from the checkout.)"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        shutil.copytree(ROOT / "resources", Path(self.build_lib) / "b24explorer" / "resources", dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithResources})
