"""Every view of the product, declared once: its archive address, the core builder of its model, its
renderers by format and its alt text.

The chat's answers, the image cache and its warm-up, the web archive's routes and `obsession render`
all read this table instead of choosing by hand. Adding a view is one line in VIEWS (and its builder
and renderer); adding a format to a view is one entry in its `formats`.

Builders and renderers are named, not imported, so that this module stays light (no matplotlib in
the process that only answers HTTP) and a View pickles as the few strings it is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from importlib import import_module

from .paths import slug

IMAGE = "png"                  # the format of a view's picture (the archive's image, the chat's picture)
_FIELD = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Place:
    """What a view is of: the week, and the area and obsession its address names (as configured, not slugged)."""

    week: date
    area: str | None = None
    obsession: str | None = None


@dataclass(frozen=True)
class View:
    """One view: where the archive serves it, how its model is built and drawn, how it is described."""

    name: str                      # "tracker"; also what a 404 calls it ("No such tracker")
    model: str                     # the class name of its model in tracker/model.py
    route: str                     # the archive path, e.g. "/trackers/{week}/{area}"; the image adds ".png"
    build: str                     # the builder in tracker/arithmetic.py
    args: tuple[str, ...]          # the Place fields the builder takes after (figures, config), in its order
    formats: dict = field(default_factory=dict)   # format -> "module[:function]" in renderers/ (default render_<module>)
    alt: str = ""                  # "module:function" of the alt text, in renderers/
    page: bool = True              # an archive page (the email's look) as well as the image
    noun: str = ""                 # what a wrong address is called: "No such chart"
    warm: bool = True              # drawn ahead by the web process's warm-up of the latest week

    @property
    def fields(self) -> tuple[str, ...]:
        """The Place fields its address names, in order ('week', 'area', 'obsession')."""
        return tuple(_FIELD.findall(self.route))

    def path(self, place: Place, suffix: str = "") -> str:
        """The archive path of this view of `place` (its page), or with a suffix ('.png') that file."""
        values = {"week": place.week.isoformat(), "area": slug(place.area or ""), "obsession": place.obsession}
        return _FIELD.sub(lambda m: values[m.group(1)], self.route) + suffix

    def image_path(self, place: Place) -> str:
        """The archive path of this view's picture."""
        return self.path(place, "." + IMAGE)

    def page_path(self, place: Place) -> str | None:
        """The archive path of its page, or None when the view is only a picture."""
        return self.path(place) if self.page else None

    def address(self) -> str:
        """The address written for people: '/trackers/YYYY-MM-DD/area-name' ('.png' when only a picture)."""
        shown = {"week": "YYYY-MM-DD", "area": "area-name", "obsession": "obsession"}
        return _FIELD.sub(lambda m: shown[m.group(1)], self.route) + ("" if self.page else "." + IMAGE)

    def place_of(self, model) -> Place:
        """The Place a model of this view is of."""
        area = getattr(model, "area", None) if "area" in self.fields else None
        obsession = model.obsession.key if "obsession" in self.fields else None
        return Place(model.week, area, obsession)

    def build_model(self, figures, config, place: Place):
        """The model, built by the core from the figures (ObsessionError when there is none)."""
        import tracker.arithmetic as arithmetic

        return getattr(arithmetic, self.build)(figures, config, *(getattr(place, a) for a in self.args))

    def renderer(self, fmt: str) -> str:
        """The renderer of one format, as 'module[:function]' (KeyError when the view has no such format)."""
        return self.formats[fmt]

    def render(self, fmt: str, model, **options):
        """The model in one format (bytes or text), through its renderer."""
        return resolve(self.renderer(fmt))(model, **options)

    def alt_text(self, model) -> str:
        """The words of every figure in the model: the alt text of each of its pictures."""
        return resolve(self.alt)(model)


def resolve(spec: str):
    """The renderer function a spec names: 'png' -> renderers.png.render_png, 'text:render_breakdown_text'."""
    module, _, function = spec.partition(":")
    return getattr(import_module(f"renderers.{module}"), function or f"render_{module}")


_VECTOR = {"svg": "vector:render_svg", "pdf": "vector:render_pdf", "docx": "docx"}   # every view's
_CHAT = {"slack": "slack", "teams": "teams", "html": "email:render_html"}   # the tracker's and the breakdown's

VIEWS: dict[str, View] = {v.name: v for v in (
    View("tracker", "Tracker", "/trackers/{week}/{area}", "build_tracker", ("week", "area"),
         {IMAGE: "png", "text": "text", "json": "json_tracker:render_json", **_VECTOR, **_CHAT},
         alt="formatting:alt_text", noun="tracker"),
    View("curve", "Curve", "/trackers/{week}/{area}/{obsession}", "build_curve", ("obsession", "area", "week"),
         {IMAGE: "curve", "json": "json_tracker:render_curve_json", **_VECTOR},
         alt="curve:curve_alt_text", page=False, noun="chart"),
    View("breakdown", "Breakdown", "/breakdowns/{week}/{obsession}", "build_breakdown", ("obsession", "week"),
         {IMAGE: "png", "text": "text:render_breakdown_text", "json": "json_tracker:render_json", **_VECTOR,
          **_CHAT},
         alt="formatting:breakdown_alt_text", noun="breakdown"),
    View("compare", "Comparison", "/compare/{week}/{obsession}", "build_compare", ("obsession", "week"),
         {IMAGE: "compare", "text": "compare:render_compare_text", "json": "compare:render_compare_json",
          "html": "compare:render_compare_html", "svg": "vector:render_svg", "pdf": "vector:render_pdf"},
         alt="compare:compare_alt_text", noun="comparison", warm=False),   # yearly figures: not in the warm-up
)}
_BY_MODEL = {v.model: v for v in VIEWS.values()}


def view_of(model) -> View:
    """The view a model (Tracker, Curve, Breakdown) is drawn as."""
    return _BY_MODEL[type(model).__name__]


def alt_text_of(model) -> str:
    """The alt text of any model (tracker, breakdown, curve, comparison), as its view declares it."""
    return view_of(model).alt_text(model)


def path_of(model, suffix: str = "") -> str:
    """The archive path of a model's view (its page, or with '.png' its image)."""
    view = view_of(model)
    return view.path(view.place_of(model), suffix)


def places(view: View, week: date, areas, obsessions) -> list[Place]:
    """Every Place of a view in one week: each area its address names, times each obsession it names."""
    fields = view.fields
    return [Place(week, a if "area" in fields else None, o if "obsession" in fields else None)
            for a in (areas if "area" in fields else (None,))
            for o in (obsessions if "obsession" in fields else (None,))]
