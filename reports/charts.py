"""Charts with Vega-Altair; pages embed the Vega/Vega-Lite/vega-embed JavaScript inline (from the
vl-convert-python package) so they render from disk with no network.

Every chart is drawn from a metrics frame (a query result), never from numbers computed here.
"""

from __future__ import annotations

import json
from functools import cache

import altair as alt
import polars as pl

WIDTH = 520
HEIGHT = 220


@cache
def javascript_bundle() -> str:
    """vega + vega-lite + vega-embed as one inline script (no CDN); built once per process."""
    import vl_convert

    version = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]  # "v6.4.1" -> "6.4"
    try:
        return vl_convert.javascript_bundle(vl_version=version)
    except (TypeError, ValueError):
        return vl_convert.javascript_bundle()


def spec_json(chart: alt.TopLevelMixin) -> str:
    """The chart's Vega-Lite spec as JSON that is safe inside a <script> element."""
    return json.dumps(chart.to_dict(), default=str).replace("</", "<\\/")


def _strings(df: pl.DataFrame, *cols: str) -> pl.DataFrame:
    return df.with_columns(pl.col(c).cast(pl.Utf8) for c in cols if c in df.columns)


def bar(
    df: pl.DataFrame,
    x: str,
    y: str,
    title: str,
    color: str | None = None,
    normalize: bool = False,
    horizontal: bool = False,
) -> alt.Chart:
    data = _strings(df, x, *([color] if color else []))
    stack = "normalize" if normalize else True
    cat = alt.X(f"{x}:N", sort=None, title=x) if not horizontal else alt.Y(f"{x}:N", sort="-x", title=x)
    val = alt.Y(f"{y}:Q", stack=stack, title=y) if not horizontal else alt.X(f"{y}:Q", stack=stack, title=y)
    enc = {"x": cat, "y": val} if not horizontal else {"y": cat, "x": val}
    tooltip = [x, y] + ([color] if color else [])
    chart = alt.Chart(data, title=title, width=WIDTH, height=HEIGHT).mark_bar().encode(**enc, tooltip=tooltip)
    return chart.encode(color=alt.Color(f"{color}:N", title=color)) if color else chart


def line(df: pl.DataFrame, x: str, y: str, title: str, color: str | None = None) -> alt.Chart:
    data = _strings(df, x, *([color] if color else []))
    chart = (
        alt.Chart(data, title=title, width=WIDTH, height=HEIGHT)
        .mark_line(point=True)
        .encode(x=alt.X(f"{x}:O", title=x), y=alt.Y(f"{y}:Q", title=y), tooltip=[x, y] + ([color] if color else []))
    )
    return chart.encode(color=alt.Color(f"{color}:N", title=color)) if color else chart


def long(
    df: pl.DataFrame, id_cols: list[str], value_cols: list[str], name: str = "measure", value: str = "value"
) -> pl.DataFrame:
    """Wide metric columns to (id..., measure, value) rows for grouped charts."""
    return df.select(*id_cols, *value_cols).unpivot(index=id_cols, on=value_cols, variable_name=name, value_name=value)
