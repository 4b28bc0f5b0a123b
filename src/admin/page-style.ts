// The live page's stylesheet (served as /ui/app.css by page.ts). Dark by default, for a screen
// read at night, light when the system asks for it; every colour pair is at least 4.5:1 (WCAG AA),
// and a state is never told by colour alone: the letters are always shown.
export const APP_CSS = `
:root {
  --bg: #11161d; --panel: #1a212b; --line: #2c3644; --text: #e8edf3; --muted: #a9b4c2;
  --ok: #4cd07d; --warn: #f2c14e; --bad: #ff6b6b; --off: #9aa5b4; --accent: #7ab8ff; --bar: #3d8bfd;
  --ok-bg: #133322; --warn-bg: #3a2f10; --bad-bg: #3d1616; --off-bg: #262d37;
}
@media (prefers-color-scheme: light) {
  :root {
    --bg: #f5f7fa; --panel: #ffffff; --line: #d5dbe3; --text: #111820; --muted: #4a5563;
    --ok: #106b35; --warn: #7a5600; --bad: #b3191d; --off: #4d5866; --accent: #0b5cc2; --bar: #2f6fdc;
    --ok-bg: #dcf5e5; --warn-bg: #fcefc9; --bad-bg: #fde0e0; --off-bg: #e6e9ee;
  }
}
* { box-sizing: border-box; }
html { font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
body { margin: 0 auto; max-width: 1200px; padding: 0 16px 24px; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; padding: 12px 0; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.3rem; margin: 0; }
h2 { font-size: 1.05rem; margin: 20px 0 8px; }
h3 { font-size: 0.95rem; margin: 12px 0 4px; color: var(--muted); font-weight: 600; }
#status { margin: 0; color: var(--muted); flex: 1; }
#status.stale { color: var(--bad); font-weight: 600; }
.actions { display: flex; gap: 8px; }
button { font: inherit; color: var(--text); background: var(--off-bg); border: 1px solid var(--line); border-radius: 4px; padding: 4px 12px; cursor: pointer; }
button:hover { border-color: var(--accent); }
button:focus-visible, input:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
button:disabled { opacity: 0.6; cursor: progress; }
button.danger { border-color: var(--bad); color: var(--bad); }
button.go { border-color: var(--ok); color: var(--ok); }
#token-form { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; padding: 10px 12px; margin-top: 12px; background: var(--panel); border: 1px solid var(--warn); border-radius: 4px; }
#token-form[hidden] { display: none; }
input { font: inherit; color: var(--text); background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: 4px 8px; min-width: 18em; }
#message { margin: 12px 0 0; padding: 8px 12px; border-radius: 4px; background: var(--panel); border-left: 4px solid var(--ok); }
#message.error { border-left-color: var(--bad); }
.muted, .legend { color: var(--muted); }
.legend { font-size: 0.85rem; }
table { width: 100%; border-collapse: collapse; background: var(--panel); border: 1px solid var(--line); }
th, td { padding: 5px 8px; text-align: left; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-size: 0.8rem; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.uri { white-space: normal; word-break: break-all; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.9rem; }
tr.down td.uri { color: var(--muted); }
.st { display: inline-block; min-width: 2.4em; padding: 1px 6px; border-radius: 3px; font-weight: 700; text-align: center; font-family: ui-monospace, Menlo, Consolas, monospace; }
.st-a { color: var(--ok); background: var(--ok-bg); }
.st-t { color: var(--warn); background: var(--warn-bg); }
.st-i { color: var(--bad); background: var(--bad-bg); }
.st-d { color: var(--off); background: var(--off-bg); }
.share { display: flex; align-items: center; justify-content: flex-end; gap: 6px; }
.share .track { width: 80px; height: 8px; background: var(--off-bg); border-radius: 4px; overflow: hidden; }
.share .fill { display: block; height: 100%; width: 0; background: var(--bar); }
.pct { display: flex; flex-wrap: wrap; gap: 4px 20px; margin: 0 0 8px; }
.pct div { display: flex; gap: 6px; align-items: baseline; }
.pct dt { color: var(--muted); font-size: 0.85rem; }
.pct dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
.chart { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 8px; }
.chart svg { display: block; width: 100%; max-width: 900px; height: auto; margin: 0 auto; }
.chart text { fill: var(--muted); font-size: 11px; font-family: system-ui, sans-serif; }
.chart .bar { fill: var(--bar); }
.chart .axis { stroke: var(--line); }
.chart .mark { stroke-width: 1.5; stroke-dasharray: 4 3; }
.chart .m50 { stroke: var(--ok); } .chart .m90 { stroke: var(--accent); } .chart .m99 { stroke: var(--warn); } .chart .m999 { stroke: var(--bad); }
.chart text.m50 { fill: var(--ok); } .chart text.m90 { fill: var(--accent); } .chart text.m99 { fill: var(--warn); } .chart text.m999 { fill: var(--bad); }
.events { list-style: none; margin: 0; padding: 0; max-height: 320px; overflow-y: auto; background: var(--panel); border: 1px solid var(--line); border-radius: 4px; }
.events li.empty { display: block; }
.events li { display: grid; grid-template-columns: 6.5em 4.5em 1fr auto; gap: 8px; padding: 4px 10px; border-bottom: 1px solid var(--line); align-items: baseline; }
.events time { font-variant-numeric: tabular-nums; color: var(--muted); }
.events .down { color: var(--bad); font-weight: 700; }
.events .up { color: var(--ok); font-weight: 700; }
.events .what { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.9rem; word-break: break-all; }
.events .why { color: var(--muted); font-size: 0.85rem; }
@media (max-width: 700px) { .hide-narrow { display: none; } .events li.empty { display: block; }
.events li { grid-template-columns: 5.5em 4em 1fr; } .events .why { display: none; } }
`;
