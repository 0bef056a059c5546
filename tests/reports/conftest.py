"""Reports are about labels: the labels' packed lot of a certified product."""

from tests.labels.conftest import packed  # noqa: F401  (a fixture, used by name)
