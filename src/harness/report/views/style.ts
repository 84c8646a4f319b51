// CSS for the workload views, appended to report.html beside the page's own style.

export const VIEW_STYLE = `
.workload-view p.explain{font-size:13px;color:#333;max-width:1000px}
.workload-view p.cap{font-size:13px;color:#b45309;font-style:italic}
.workload-view p.note{font-size:13px;color:#666}
table.view{border-collapse:collapse;font-size:12px;margin:6px 0 12px}
table.view th,table.view td{border:1px solid #ddd;padding:3px 8px;text-align:right;vertical-align:top}
table.view th{background:#f5f5f5;font-weight:600}
table.view td.l{text-align:left}
table.view td.ops{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11px;white-space:nowrap}
table.view td.words{text-align:left;min-width:280px;max-width:520px}
table.view tr.blocked td{background:#fee2e2}
.finding{border:1px solid #e5e7eb;border-radius:6px;padding:8px 12px;margin:10px 0;max-width:1160px}
.finding h3{font-size:14px;margin:0 0 4px}
.finding ul{margin:4px 0 6px 18px;padding:0;font-size:13px}
.finding p{font-size:13px;margin:4px 0}
.tag{display:inline-block;font-size:11px;padding:0 6px;border-radius:6px;background:#e5e7eb;color:#333;margin-left:6px;font-weight:normal}
.tag.bad{background:#fecaca;color:#7f1d1d}.tag.extra{background:#ddd6fe;color:#3b0764}
.txbox{fill:#f8fafc;stroke:#334155;stroke-width:1.2}
.txhead{font-size:12px;font-weight:600;fill:#111}
.txmop{font-size:11px;fill:#333;font-family:ui-monospace,Menlo,Consolas,monospace}
.edge{fill:none;stroke-width:1.6}
.edgelabel{font-size:12px;font-weight:600}
.edgebg{fill:#fff;fill-opacity:.85}
.bar{stroke:#1e293b;stroke-width:.6}
.bar.prefix{fill:#93c5fd}.bar.other{fill:#e2e8f0}.bar.fail{fill:#f1f5f9;stroke-dasharray:2 2}
.bar.info{fill:#fde68a}.bar.blocked{fill:#f87171;stroke:#7f1d1d;stroke-width:1.6}
.barlabel{font-size:10px;fill:#111;font-family:ui-monospace,Menlo,Consolas,monospace}
.order{font-size:9px;fill:#1d4ed8}
.rowlabel{font-size:11px;fill:#333}
.rowline{stroke:#eee}
div.scroll.from-right{direction:rtl}
div.scroll.from-right>div{direction:ltr;display:inline-block}
`;
