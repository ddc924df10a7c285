"""The layout rules that would otherwise break imports in surprising ways."""

import importlib
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_platform_folder_is_not_a_package():
    assert (REPO / "platform" / "huoban" / "__init__.py").exists()
    assert not (REPO / "platform" / "__init__.py").exists()


def test_import_platform_is_the_standard_library():
    module = importlib.import_module("platform")
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(module.__file__).resolve().parent == stdlib
    assert callable(module.system)
    assert "huoban" in sys.modules  # the platform layer itself imports fine beside it
