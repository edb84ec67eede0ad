"""`ilrs app`: the what-if page in the browser, served by Panel on this machine only.

Panel (HoloViz) is used because it turns Python widgets and matplotlib figures into a live page
with no JavaScript of ours: each browser tab gets its own session, and every change of a control
re-runs the variant (see :mod:`sim.whatif`) with the same seed and redraws the answer, the
goal-date histogram with its S-curve, and the schedule chart.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import socket
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import panel as pn

from .engine import DEFAULT_ENGINE
from .model import Activity, Risk, Scenario, Vehicle
from .parameters import ParameterSpace
from .results import Results
from .scenario import ScenarioError, load_scenario
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
)

DEFAULT_PORT = 5006
LOCAL = "127.0.0.1"


def scenario_choices(first: Path) -> dict[str, Path]:
    """Title -> file of `first` and of the scenarios beside it that load without problems."""
    choices: dict[str, Path] = {}
    for path in [first, *sorted(first.parent.glob("*.yaml"))]:
        try:
            title = load_scenario(path).title
        except ScenarioError:
            continue
        choices.setdefault(f"{title} ({path.name})", path)
    return choices


def css_class(key: Key) -> str:
    """The class of a control on the page, so that a test (or a user's script) can find it:
    ``ctl-`` and the key, with every character a class name cannot hold replaced by ``-``."""
    return "ctl-" + re.sub(r"[^A-Za-z0-9_-]", "-", "-".join(key))


# A control's label is its parameter path and source, often wider than the sidebar: wrap it
# (Bokeh keeps a slider's title on one line and lets it run past the card's edge).
_WRAP_TITLE = ":host .bk-slider-title { white-space: normal; overflow-wrap: anywhere; }"


def _shown_path(file: str) -> str:
    """`file` as a reader finds it: relative to the working folder when it is inside it,
    else absolute (a path climbing out of the working folder is hard to read)."""
    relative = os.path.relpath(file)
    return os.path.abspath(file) if relative.startswith(os.pardir) else relative


def _widget(c: Control) -> Any:
    label = c.label + (f" [{c.source}]" if c.source else "")
    common = {"name": label, "width": 330, "css_classes": [css_class(c.key)],
              "stylesheets": [_WRAP_TITLE]}
    if c.kind == "probability":
        return pn.widgets.FloatSlider(start=0.0, end=1.0, step=0.01, value=c.value, **common)
    if c.kind == "number":
        return pn.widgets.FloatSlider(start=c.low, end=c.high, step=c.step, value=c.value,
                                      **common)
    if c.kind == "count":
        return pn.widgets.IntSlider(start=int(c.low), end=int(c.high), value=c.value, **common)
    if c.bounded:
        epoch = date(1970, 1, 1).toordinal()
        common["start"], common["end"] = (date.fromordinal(int(d) + epoch)
                                          for d in (c.low, c.high))
    return pn.widgets.DatePicker(value=c.value, **common)


def _drawn_html(what: str) -> str:
    return (f"<span id='drawn' data-variant='{html.escape(what, quote=True)}' "
            "style='color:#666;font-size:12px'>Figures: the variant above.</span>")


def _sources_html(res: Results) -> str:
    sc = res.scenario
    cited: dict[str, list[str]] = {}
    elements: list[Activity | Vehicle | Risk] = [*sc.activities, *sc.vehicles, *sc.risks]
    for e in elements:
        if e.source:
            cited.setdefault(e.source, []).append(e.id)
    rows = "".join(f"<tr><td><code>{html.escape(k)}</code></td><td>{html.escape(str(v))}</td>"
                   f"<td>{html.escape(', '.join(cited.get(k, [])))}</td></tr>"
                   for k, v in sc.sources.items())
    return ("<p>Every input above names its source key in brackets; what each key cites:</p>"
            "<table style='font-size:12px'><tr><th>key</th><th>source</th><th>cited by</th>"
            f"</tr>{rows}</table>")


class WhatIfPage:
    """One browser session's page: the controls of the chosen scenario and the live answer."""

    def __init__(self, choices: dict[str, Path], trials: int, seed: int,
                 engine: str = DEFAULT_ENGINE,
                 parameters: dict[Path, Path | bool] | None = None) -> None:
        self.choices, self.trials, self.seed, self.engine = choices, trials, seed, engine
        # Per scenario file: its parameters file, or True for the documented default, or False
        # for the fallback controls; a file not listed gets the default.
        self.parameters = parameters or {}
        self.space: ParameterSpace | None = None
        self.picker = pn.widgets.Select(name="Scenario", options=list(choices), width=300)
        self.answer = pn.pane.HTML("", sizing_mode="stretch_width")
        self.drawn = pn.pane.HTML("")  # says which variant the figures show
        self.histogram = pn.pane.PNG(None)
        self.schedule = pn.pane.PNG(None)
        self.wanted = self.shown = 0  # changes asked for / shown: only the newest is computed
        self.busy = False
        self.sources = pn.pane.HTML("", sizing_mode="stretch_width")
        self.controls = pn.Column(sizing_mode="stretch_width")
        self.save_path = pn.widgets.TextInput(name="Save the variant as", width=300,
                                              css_classes=["save-path"])
        self.save_button = pn.widgets.Button(name="Save variant", button_type="primary")
        self.reset_button = pn.widgets.Button(name="Reset to the original")
        self.status = pn.pane.HTML("", width=300)
        self.widgets: dict[Key, Any] = {}
        self.picker.param.watch(lambda _: self.load(), "value")
        self.save_button.on_click(lambda _: self.save())
        self.reset_button.on_click(lambda _: self.load())
        self.load()

    def load(self) -> None:
        """(Re)build the controls for the chosen scenario and show its answer."""
        file = self.choices[self.picker.value]
        self.scenario = load_scenario(file)
        self.status.object = ""
        try:
            self.space = parameter_space(self.scenario, self.parameters.get(file, True))
        except ScenarioError as err:  # a default that does not fit: the fallback controls
            self.space = None
            self.status.object = f"<pre style='color:#b00'>{html.escape(str(err))}</pre>"
        self.base = evaluate(self.scenario, self.trials, self.seed, self.engine)
        self.widgets = {}
        groups: dict[str, list[Any]] = {}
        for c in controls(self.scenario, self.space):
            widget = _widget(c)
            event = "value_throttled" if c.kind != "date" else "value"
            widget.param.watch(self.changed, event)
            self.widgets[c.key] = widget
            groups.setdefault(c.group, []).append(widget)
        cards = [pn.Card(*ws, title=g, collapsed=i > 3, width=360) for i, (g, ws)
                 in enumerate(groups.items())]
        self.controls.objects = cards
        if self.space is not None:
            note = (f"<p style='font-size:12px'>The uncertain parameters declared in "
                    f"<code>{html.escape(_shown_path(self.space.file))}</code>.</p>")
            self.controls.objects = [pn.pane.HTML(note), *cards]
        assert self.scenario.path is not None
        path = Path(self.scenario.path)
        self.save_path.value = str(path.with_name(f"{path.stem}_whatif.yaml"))
        self.sources.object = _sources_html(self.base)
        self.update()

    def values(self) -> dict[Key, Any]:
        return {key: w.value for key, w in self.widgets.items()}

    def compute(self, scenario: Scenario, values: dict[Key, Any]) -> tuple[Results, str]:
        """The variant's results and a description of its changes (ScenarioError if invalid)."""
        space = self.space
        res = evaluate(build_variant(scenario, values, space), self.trials, self.seed,
                       self.engine)
        what = "; ".join(f"{'.'.join(k)} {v}" for k, v in changed(scenario, values, space).items())
        return res, what or "original"

    def update(self) -> None:
        """Show the answer for the controls as they are (blocking: at load and reset)."""
        began = time.perf_counter()
        res, what = self.compute(self.scenario, self.values())
        self.answer.object = answer_html(res, self.base, time.perf_counter() - began, what)
        self.histogram.object, self.schedule.object = figures(res)
        self.drawn.object = _drawn_html(what)

    async def changed(self, *_: Any) -> None:
        """A control moved. The simulation and the drawing run in a thread, so the page stays
        live; changes made meanwhile are not queued one by one: when a run ends, the next one
        takes the controls as they are then, so the page never lags behind a moving slider."""
        self.wanted += 1
        if self.busy:
            return
        self.busy = True
        try:
            while self.shown < self.wanted:
                self.shown = self.wanted
                began, scenario = time.perf_counter(), self.scenario
                try:
                    res, what = await asyncio.to_thread(self.compute, scenario, self.values())
                except ScenarioError as err:
                    self.status.object = f"<pre style='color:#b00'>{html.escape(str(err))}</pre>"
                    continue
                if scenario is not self.scenario:  # another scenario was picked meanwhile
                    continue
                # The answer first; the figures follow when drawn.
                self.answer.object = answer_html(res, self.base, time.perf_counter() - began,
                                                  what)
                self.histogram.object, self.schedule.object = await asyncio.to_thread(figures,
                                                                                      res)
                self.drawn.object = _drawn_html(what)
        finally:
            self.busy = False

    def save(self) -> None:
        target = str(self.save_path.value_input or self.save_path.value or "")
        try:
            saved = save_variant(self.scenario, self.values(), target, self.space)
        except (ScenarioError, OSError, ValueError) as err:
            self.status.object = f"<pre style='color:#b00'>{html.escape(str(err))}</pre>"
            return
        self.status.object = (f"<span id='saved'>Saved {html.escape(str(saved))}</span> "
                              "(it extends the original and validates)")

    def view(self) -> pn.viewable.Viewable:
        side = pn.Column(
            "## Inputs", self.picker,
            f"{self.trials:,} trials, seed {self.seed}; move a control to re-run.",
            self.controls, self.reset_button, self.save_path, self.save_button, self.status,
            width=390,
        )
        main = pn.Column("# What if?", self.answer, self.drawn, self.histogram, self.schedule,
                         "## Sources", self.sources, sizing_mode="stretch_width")
        return pn.Row(side, main, sizing_mode="stretch_width")


def free_port(address: str = LOCAL) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        port: int = sock.getsockname()[1]
        return port


def serve(scenario: Path, port: int = DEFAULT_PORT, trials: int = DEFAULT_TRIALS,
          seed: int = DEFAULT_SEED, address: str = LOCAL,
          announce: Callable[[str], None] = print, engine: str = DEFAULT_ENGINE,
          parameters: str | os.PathLike[str] | bool = True) -> None:
    """Serve the page at http://address:port/ until interrupted (port 0: a free one).

    `parameters`: the declared parameters of the first scenario (a file; True: its documented
    default, if any; False: the fallback controls). The others beside it get their default."""
    choices = scenario_choices(scenario)
    port = port or free_port(address)
    # The browser's origin must be allowed to open the session's websocket. Locally that is
    # this machine's names only; listening on every interface (asked for) allows any origin.
    origins = ([f"{address}:{port}"] + ([f"localhost:{port}"] if address == LOCAL else [])
               if address not in ("0.0.0.0", "::") else ["*"])
    chosen: dict[Path, Path | bool] = {
        scenario: parameters if isinstance(parameters, bool) else Path(parameters)}
    server = pn.serve({"/": lambda: WhatIfPage(choices, trials, seed, engine, chosen).view()},
                      port=port,
                      address=address, websocket_origin=origins, show=False, start=False,
                      title="ilrs-sim what-if")
    announce(f"What-if page    http://{address}:{port}/  (Ctrl-C stops it)")
    server.start()
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def default_scenario() -> Path | None:
    here = Path(os.getcwd()) / "scenarios" / "ilrs_baseline.yaml"
    return here if here.exists() else None
