"""ilrs-sim: schedule-risk Monte Carlo for the International Lunar Research Station programme.

    from sim import load_scenario, run
    results = run(load_scenario("scenarios/ilrs_baseline.yaml"), trials=10_000, seed=1)
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ilrs-sim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

from .model import Scenario  # noqa: E402
from .montecarlo import run  # noqa: E402
from .results import Results  # noqa: E402

try:
    from .scenario import Problem, ScenarioError, load_scenario, parse_scenario, resolved_yaml  # noqa: E402
except ImportError:  # pragma: no cover - while the loader is being written
    pass

__all__ = [
    "Problem",
    "Results",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_scenario",
    "parse_scenario",
    "resolved_yaml",
    "run",
]
