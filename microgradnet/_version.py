"""The version of microgradnet, in one place.

``pyproject.toml`` reads it (``version = {attr = ...}``) when a wheel or sdist is built, so
the package metadata, ``microgradnet.__version__`` and ``microgradnet --version`` always
agree. Record what each version adds in ``CHANGELOG.md``.
"""

__version__ = "0.1.0"
