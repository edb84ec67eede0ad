"""The what-if page's controls in Jupyter, with ipywidgets.

    from sim import load_scenario
    from sim.widgets import WhatIf
    WhatIf(load_scenario("../scenarios/ilrs_baseline.yaml"))   # the last line of a cell shows it

Each control is a widget in ``.controls`` (keyed like ``("vehicles", "long_march_9",
"reliability")``); moving one re-runs the variant with the same seed (common random numbers)
and redraws the answer and the figures. ``.results`` holds the variant's results,
``.variant()`` the variant scenario and ``.save(path)`` writes it as YAML that ``extends`` the
original. Values can also be set from code (``w.controls[key].value = 0.9``), with the same effect.

``WhatIf(scenario, parameters="../parameters/ilrs_judgements.yaml")`` (or ``parameters=True``
for the scenario's documented default, as ``ilrs app`` uses) makes the controls the declared
uncertain parameters instead, each keyed by its path alone
(``("activities.{ilrs1,ilrs2,ilrs3,ilrs4,ilrs5}.success",)``).
"""

from __future__ import annotations

import html
import os
import time
from datetime import date
from pathlib import Path
from typing import Any

import ipywidgets as w

from .model import Scenario
from .results import Results
from .scenario import ScenarioError
from .whatif import (
    DEFAULT_SEED,
    DEFAULT_TRIALS,
    Control,
    Key,
    answer_html,
    build_variant,
    changed,
    controls,
    evaluate,
    figures,
    parameter_space,
    save_variant,
    source_file,
)

_LAYOUT = {"width": "420px"}
_STYLE = {"description_width": "180px"}


def _widget(c: Control) -> Any:
    label = c.label + (f" [{c.source}]" if c.source else "")
    common = {"description": label, "layout": _LAYOUT, "style": _STYLE,
              "continuous_update": False}
    if c.kind == "probability":
        return w.FloatSlider(value=c.value, min=0.0, max=1.0, step=0.01, readout_format=".2f",
                             **common)
    if c.kind == "number":
        return w.FloatSlider(value=c.value, min=c.low, max=c.high, step=c.step,
                             readout_format=".4g", **common)
    if c.kind == "count":
        return w.IntSlider(value=c.value, min=int(c.low), max=int(c.high), **common)
    del common["continuous_update"]
    if c.bounded:
        epoch = date(1970, 1, 1).toordinal()
        common["min"], common["max"] = (date.fromordinal(int(d) + epoch) for d in (c.low, c.high))
    return w.DatePicker(value=c.value, **common)


class WhatIf(w.VBox):  # type: ignore[misc]
    """The what-if of a scenario read from a file, as a notebook widget."""

    def __init__(self, scenario: Scenario, trials: int = DEFAULT_TRIALS,
                 seed: int = DEFAULT_SEED,
                 parameters: str | os.PathLike[str] | bool = False) -> None:
        source = source_file(scenario)  # ValueError when it did not come from a file
        self.scenario, self.trials, self.seed = scenario, trials, seed
        # ScenarioError (file and line) for a parameters file that does not fit the scenario.
        self.space = parameter_space(scenario, parameters)
        self.base = evaluate(scenario, trials, seed)
        self.results: Results = self.base
        self.controls: dict[Key, Any] = {}
        groups: dict[str, list[Any]] = {}
        for c in controls(scenario, self.space):
            widget = _widget(c)
            widget.observe(lambda _: self.update(), names="value")
            self.controls[c.key] = widget
            groups.setdefault(c.group, []).append(widget)
        accordion = w.Accordion(children=[w.VBox(ws) for ws in groups.values()],
                                titles=tuple(groups))
        self.answer = w.HTML()
        self.histogram, self.schedule = w.Image(format="png"), w.Image(format="png")
        self.path = w.Text(value=str(Path(source).with_name(f"{Path(source).stem}_whatif.yaml")),
                           description="save as",
            layout={"width": "520px"})
        button = w.Button(description="Save variant", button_style="primary")
        button.on_click(lambda _: self.save(self.path.value))
        self.status = w.HTML()
        super().__init__([accordion, self.answer, self.histogram, self.schedule,
                          w.HBox([self.path, button]), self.status])
        self.update()

    def values(self) -> dict[Key, Any]:
        return {key: widget.value for key, widget in self.controls.items()}

    def variant(self) -> Scenario:
        """The scenario the controls describe (ScenarioError if a value is impossible)."""
        return build_variant(self.scenario, self.values(), self.space)

    def update(self) -> None:
        began = time.perf_counter()
        try:
            self.results = evaluate(self.variant(), self.trials, self.seed)
        except ScenarioError as err:
            self.status.value = f"<pre style='color:#b00'>{html.escape(str(err))}</pre>"
            return
        what = "; ".join(f"{'.'.join(k)} {v}" for k, v in
                         changed(self.scenario, self.values(), self.space).items()) or "original"
        self.answer.value = answer_html(self.results, self.base, time.perf_counter() - began,
                                         what)
        self.histogram.value, self.schedule.value = figures(self.results)

    def save(self, path: str | Path) -> Path:
        """Write the variant as YAML extending the original; it is checked by loading it."""
        saved = save_variant(self.scenario, self.values(), path, self.space)
        self.status.value = f"Saved {html.escape(str(saved))} (it extends the original)"
        return saved
