/*
 * usmjit dashboard page: draws window.USMJIT_DASHBOARD (dashboard/model.ts, written to data.js)
 * with uPlot. Plain JavaScript in a classic script because browsers do not run module scripts
 * from file://. Everything the page shows is computed in Node; this file only lays out and draws.
 * The charts are exposed as window.usmjitDashboard.charts for the browser test.
 */
(function () {
  'use strict';
  const model = window.USMJIT_DASHBOARD;
  const state = { charts: [], machine: null };
  window.usmjitDashboard = state;

  const COLORS = { ratio: '#0969da', bad: '#cf222e', qemu: '#8250df', goal: '#1a7f37' };

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  const fmtRatio = (v) => (v === null || v === undefined ? '-' : `${v >= 10 ? v.toFixed(1) : v.toFixed(2)}×`);
  function fmtNum(v) {
    if (v === null || v === undefined) return '-';
    if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
    return String(Number(v.toPrecision(4)));
  }
  const fmtTime = (v, unit) => (v === null || v === undefined ? '-' : `${fmtNum(v)} ${unit}`);
  const fmtDate = (iso) => iso.replace('T', ' ').slice(0, 16) + ' UTC';
  const machineLabel = (m) => `${m.machine.cpu} · ${m.machine.cores} cores · node ${m.machine.node} · V8 ${m.machine.v8} (${m.runs} runs)`;

  function card(label, value, detail, bad) {
    return el('div', { class: bad ? 'card bad' : 'card' }, el('div', { class: 'label', text: label }), el('div', { class: 'value', text: value }), el('div', { class: 'detail', text: detail }));
  }

  function renderSummary(m) {
    const box = document.getElementById('summary');
    box.replaceChildren();
    for (const s of m.summary.suites) {
      const name = `npm run ${s.suite}`;
      if (s.latest) box.append(card(`Latest geomean ratio (${name})`, fmtRatio(s.latest.value), `${s.latest.n} benchmarks at ${s.latest.commit}, ${fmtDate(s.latest.date)}`));
      if (s.best) box.append(card(`Best ever (${name})`, fmtRatio(s.best.value), `at ${s.best.commit}, over the same ${s.best.n} benchmarks`));
    }
    const big = m.summary.biggestRegression;
    box.append(
      big
        ? card('Biggest regression', big.worseBy >= 0 ? `+${Math.round(big.worseBy * 100)}%` : 'stopped', `npm run ${big.suite} at ${big.commit}: ${big.text}. ${m.summary.regressions} flagged in all.`, true)
        : card('Biggest regression', 'none', `no run flagged: ${model.tolerance}`),
    );
  }

  function latestTable(s) {
    const t = s.latest;
    const head = el('tr', {}, ...t.columns.map((c) => el('th', { text: c })));
    const iStatus = t.columns.indexOf('status'), iRatio = t.ratioColumn;
    const body = t.rows.map((r) =>
      el(
        'tr',
        { class: String(r[iStatus]).startsWith('ok') ? '' : 'not-ok' },
        ...r.map((v, i) => (typeof v === 'number' ? el('td', { class: 'num', text: i === iRatio ? fmtRatio(v) : fmtNum(v) }) : el('td', { text: v === null ? '-' : String(v) }))),
      ),
    );
    return el('table', { class: 'latest' }, el('thead', {}, head), el('tbody', {}, ...body));
  }

  const tooltip = document.getElementById('tooltip');

  function showTooltip(u, s, c) {
    const i = u.cursor.idx;
    if (i === null || i === undefined || u.cursor.left < 0) {
      tooltip.hidden = true;
      return;
    }
    const run = s.runs[i];
    const lines = [
      el('div', {}, el('b', { text: run.short }), ` ${run.subject}`),
      el('div', { text: `commit ${fmtDate(run.commitDate)} · run ${fmtDate(run.date)}${run.seeded ? ' (seeded)' : ''}${run.dirty ? ' (uncommitted changes)' : ''}` }),
      el('div', { text: `usmjit ${fmtTime(c.usmjit[i], c.unit)} · native ${fmtTime(c.native[i], c.unit)}${c.qemu[i] !== null ? ` · qemu-user ${fmtTime(c.qemu[i], c.unit)}` : ''}` }),
      el('div', { text: c.ratio[i] !== null ? `ratio ${fmtRatio(c.ratio[i])}${c.qemuRatio[i] !== null ? ` (qemu-user ${fmtRatio(c.qemuRatio[i])})` : ''}` : `no ratio: ${c.status[i] ?? 'not run'}` }),
    ];
    if (c.regressionText[i]) lines.push(el('div', { class: 'bad', text: `REGRESSION: ${c.regressionText[i]}` }));
    tooltip.replaceChildren(...lines);
    tooltip.hidden = false;
    const box = u.over.getBoundingClientRect();
    const x = box.left + u.cursor.left + 14, y = box.top + u.cursor.top + 14;
    tooltip.style.left = `${Math.min(x, window.innerWidth - tooltip.offsetWidth - 8)}px`;
    tooltip.style.top = `${Math.min(y, window.innerHeight - tooltip.offsetHeight - 8)}px`;
  }

  function renderChart(parent, s, c) {
    const n = s.runs.length;
    const xs = s.runs.map((_, i) => i);
    const regressedAt = c.regressionText.map((t, i) => (t ? `${s.runs[i].short}` : null)).filter(Boolean);
    const last = c.ratio.reduce((acc, v, i) => (v !== null ? i : acc), -1);
    const head = el(
      'div',
      { class: 'chart-head' },
      el('span', { class: 'name', text: `${c.name}` }),
      el('span', { class: 'meta', text: `${c.group} · ${c.points} of ${n} runs · latest ${last >= 0 ? `${fmtRatio(c.ratio[last])} at ${s.runs[last].short}` : '-'}` }),
    );
    // A marked point is a slower ratio; a benchmark that stopped running has no point, only its badge.
    const badge = (t, i) => el('span', { class: 'badge', title: t, text: c.regression[i] !== null ? `regressed at ${s.runs[i].short} (+${Math.round((c.regression[i] / c.baseline[i] - 1) * 100)}%)` : `${c.status[i]} at ${s.runs[i].short}` });
    const badges = el('div', {}, ...c.regressionText.map((t, i) => (t ? badge(t, i) : null)));
    const plotBox = el('div', { class: 'plot' });
    const box = el('div', { class: regressedAt.length ? 'chart has-regression' : 'chart', 'data-chart': c.id, 'data-points': String(c.points), 'data-regressions': String(c.regressions) }, head, badges, plotBox);
    parent.append(box);

    const series = [
      {},
      { label: 'usmjit / native', stroke: COLORS.ratio, width: 2, spanGaps: true, points: { show: true, size: 6, fill: COLORS.ratio }, value: (u, v) => fmtRatio(v) },
      // Regressions: red points only, over the ratio points they flag.
      { label: 'regression', stroke: COLORS.bad, width: 0, paths: () => null, points: { show: true, size: 12, width: 2, fill: 'rgba(207,34,46,0.35)', stroke: COLORS.bad }, value: (u, v) => fmtRatio(v) },
    ];
    const data = [xs, c.ratio, c.regression];
    if (c.qemuRatio.some((v) => v !== null)) {
      series.push({ label: 'qemu-user / native', stroke: COLORS.qemu, width: 1.5, dash: [6, 4], spanGaps: true, points: { show: true, size: 4 }, value: (u, v) => fmtRatio(v) });
      data.push(c.qemuRatio);
    }
    if (c.goal !== null) {
      series.push({ label: `${c.goal}× goal`, stroke: COLORS.goal, width: 1.5, dash: [3, 4], points: { show: false }, value: () => `${c.goal}×` });
      data.push(xs.map(() => c.goal));
    }
    const opts = {
      width: Math.max(300, box.clientWidth - 16),
      height: 210,
      legend: { live: false },
      cursor: { drag: { x: false, y: false }, points: { size: 8 } },
      scales: {
        x: { time: false, range: () => [-0.5, Math.max(n - 0.5, 0.5)] },
        y: { range: (u, min, max) => [0, (Number.isFinite(max) ? Math.max(max, 1) : 1) * 1.12] },
      },
      axes: [
        { space: 58, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], values: (u, splits) => splits.map((i) => (Number.isInteger(i) && s.runs[i] ? s.runs[i].short : '')), font: '11px system-ui', size: 30 },
        { label: 'ratio to native', labelSize: 16, labelFont: '11px system-ui', font: '11px system-ui', size: 44, values: (u, splits) => splits.map((v) => `${fmtNum(v)}×`) },
      ],
      series,
      hooks: { setCursor: [(u) => showTooltip(u, s, c)] },
    };
    const plot = new uPlot(opts, data, plotBox);
    plot.over.addEventListener('mouseleave', () => (tooltip.hidden = true));
    state.charts.push({ id: c.id, suite: s.suite, name: c.name, points: c.points, plot, box });
  }

  function render(key) {
    for (const c of state.charts) c.plot.destroy();
    state.charts = [];
    const m = model.machines.find((x) => x.key === key);
    state.machine = key;
    const main = document.getElementById('suites');
    main.replaceChildren();
    if (!m) {
      main.append(el('p', { text: 'The history is empty: record a run with `npm run bench -- --record`.' }));
      document.getElementById('summary').replaceChildren();
      return;
    }
    renderSummary(m);
    for (const s of m.suites) {
      const grid = el('div', { class: 'grid' });
      const last = s.runs[s.runs.length - 1];
      main.append(
        el(
          'section',
          { class: 'suite', 'data-suite': s.suite },
          el('h2', { text: s.title }),
          grid,
          el('h3', { text: `Latest run: ${last.short} (${fmtDate(last.date)}), ${s.runs.length} runs recorded` }),
          latestTable(s),
        ),
      );
      for (const c of s.charts) renderChart(grid, s, c);
    }
  }

  const pick = document.getElementById('machine');
  for (const m of model.machines) pick.append(el('option', { value: m.key, text: machineLabel(m) }));
  pick.value = model.defaultMachine;
  pick.addEventListener('change', () => render(pick.value));
  render(model.defaultMachine);

  let resizing = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => {
      for (const c of state.charts) c.plot.setSize({ width: Math.max(300, c.box.clientWidth - 16), height: 210 });
    }, 100);
  });
})();
