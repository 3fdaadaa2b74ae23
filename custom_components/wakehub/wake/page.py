"""The waiting page: one self-contained HTML document, no external asset.

Readable on a phone and across a room on a TV (large type that scales with the
screen, light and dark), it lists each layer of the chain as it comes up, the
time spent and the usual time from the last wakes. Its script asks the same
address again with a poll header and waits for the next change (long poll), so
it moves on the moment the service answers: to the service itself (wake link),
or by reloading the page, which the proxy then serves from the service (gate).
Without script, the page refreshes itself every few seconds.

Everything shown comes from WakeHub's own names and texts, HTML-escaped; the
token never appears in the page (the script polls `location.href`).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
import json

from .const import POLL_HEADER, RETRY_HEADER, STATE_HEADER, VERSION_HEADER
from .session import Layer

REFRESH_WITHOUT_SCRIPT = 5  # seconds


@dataclass(frozen=True)
class PageModel:
    """What one answer shows."""

    language: str
    title: str
    name: str
    state: str  # waiting, ready or failed
    headline: str
    layers: list[Layer]
    elapsed: float
    elapsed_label: str
    estimate: str | None
    error: str | None
    retry_label: str
    version: int
    #: Where to go once ready (wake link, HTTP service), else None.
    target: str | None
    ready_text: str | None = None


def _seconds(value: float) -> str:
    whole = round(value)
    return f"{whole // 60} min {whole % 60:02d} s" if whole >= 60 else f"{whole} s"


def fragment(model: PageModel) -> str:
    """The changing part of the page (also the answer to a poll)."""
    rows = []
    for layer in model.layers:
        mark = "✓" if layer.up else "…"
        after = (
            f'<span class="after">{escape(_seconds(layer.up_after))}</span>'
            if layer.up and layer.up_after is not None
            else ""
        )
        rows.append(
            f'<li class="{"up" if layer.up else "down"}"><span class="mark">'
            f'{mark}</span><span class="what"><b>{escape(layer.name)}</b> '
            f"<span>{escape(layer.text)}</span></span>{after}</li>"
        )
    parts = [
        (
            f'<h1 data-state="{model.state}" data-elapsed="{model.elapsed:.1f}">'
            f"{escape(model.headline)}</h1>"
        ),
        f'<ol class="layers">{"".join(rows)}</ol>',
        (
            f'<p class="time">{escape(model.elapsed_label)} '
            f'<span id="elapsed">{escape(_seconds(model.elapsed))}</span></p>'
        ),
    ]
    if model.estimate:
        parts.append(f'<p class="time">{escape(model.estimate)}</p>')
    if model.ready_text:
        parts.append(f'<p class="ready">{escape(model.ready_text)}</p>')
    if model.error is not None:
        parts.append(f'<p class="error" role="alert">{escape(model.error)}</p>')
        parts.append(
            f'<p><a class="button" id="retry" href="?retry=1">'
            f"{escape(model.retry_label)}</a></p>"
        )
    return "".join(parts)


_STYLE = """
:root{color-scheme:light dark;--fg:#1c1c1c;--bg:#f5f6f8;--card:#fff;--ok:#2e7d32;
--muted:#5f6368;--accent:#03a9f4;--err:#c62828}
@media (prefers-color-scheme:dark){:root{--fg:#e8eaed;--bg:#111418;--card:#1c2026;
--ok:#81c995;--muted:#9aa0a6;--err:#f28b82}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);
color:var(--fg);font-size:clamp(18px,2.6vw,34px);line-height:1.35}
main{background:var(--card);border-radius:1em;padding:1.2em 1.4em;margin:1em;
width:min(32em,100%);box-shadow:0 .2em 1em rgba(0,0,0,.15)}
h1{font-size:1.35em;margin:0 0 .6em}
ol{list-style:none;padding:0;margin:0 0 .8em}
li{display:flex;gap:.6em;align-items:baseline;padding:.35em 0;
border-bottom:1px solid rgba(127,127,127,.2)}
.mark{width:1.2em;text-align:center;font-weight:bold}
li.up .mark{color:var(--ok)}li.down .mark{color:var(--accent)}
.what{flex:1}.what span{color:var(--muted)}
.after{color:var(--muted);font-variant-numeric:tabular-nums}
.time{color:var(--muted);margin:.3em 0;font-variant-numeric:tabular-nums}
.error{color:var(--err);font-weight:600}
.button{display:inline-block;margin-top:.4em;padding:.5em 1.2em;border-radius:.5em;
background:var(--accent);color:#fff;text-decoration:none;font-weight:600}
"""

_SCRIPT = """
(function(){
var cfg=JSON.parse(document.getElementById("wakehub-config").textContent);
var main=document.getElementById("wakehub");var base=Date.now();
function fmt(s){s=Math.round(s);return s>=60?Math.floor(s/60)+" min "+
String(s%60).padStart(2,"0")+" s":s+" s";}
function h1(){return main.querySelector("h1");}
function elapsed(){return parseFloat(h1().dataset.elapsed)+(Date.now()-base)/1000;}
setInterval(function(){var e=document.getElementById("elapsed");
if(e&&h1().dataset.state==="waiting"){e.textContent=fmt(elapsed());}},1000);
function hook(){var r=document.getElementById("retry");if(!r){return;}
r.addEventListener("click",function(ev){ev.preventDefault();var h={};
h[cfg.retry]="1";fetch(location.href,{headers:h,cache:"no-store"}).then(function(){
location.reload();},function(){location.reload();});});}
function done(){if(cfg.target){location.replace(cfg.target);}else{location.reload();}}
function poll(){var h={};h[cfg.poll]=String(cfg.version);
fetch(location.href,{headers:h,cache:"no-store"}).then(function(r){
var s=r.headers.get(cfg.header);
if(!s){location.reload();return null;}
return r.text().then(function(t){
cfg.version=parseInt(r.headers.get(cfg.versionHeader)||"0",10);
main.innerHTML=t;base=Date.now();hook();
if(s==="ready"){if(cfg.target){done();}return;}
if(s!=="failed"){poll();}});},function(){setTimeout(function(){location.reload();},2000);});}
hook();if(cfg.initial==="ready"&&cfg.target){done();}
else if(cfg.initial==="waiting"){poll();}
})();
"""


def document(model: PageModel, nonce: str) -> str:
    """The whole page."""
    config = {
        "target": model.target,
        "version": model.version,
        "initial": model.state,
        "header": STATE_HEADER,
        "versionHeader": VERSION_HEADER,
        "poll": POLL_HEADER,
        "retry": RETRY_HEADER,
    }
    # "<" escaped so no text can close the script element.
    config_json = json.dumps(config).replace("<", "\\u003c")
    refresh = (
        f'<noscript><meta http-equiv="refresh" content="{REFRESH_WITHOUT_SCRIPT}">'
        "</noscript>"
        if model.state == "waiting"
        else ""
    )
    return (
        f'<!doctype html><html lang="{escape(model.language)}"><head>'
        '<meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"{refresh}"
        f"<title>{escape(model.title)}</title><style>{_STYLE}</style></head><body>"
        f'<main id="wakehub" aria-live="polite">{fragment(model)}</main>'
        f'<script type="application/json" id="wakehub-config">{config_json}</script>'
        f'<script nonce="{nonce}">{_SCRIPT}</script></body></html>'
    )
