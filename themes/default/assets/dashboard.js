// Developer dashboard charts (Chart.js, served locally). Data comes from the
// canvas's data-chart attribute, never from inline script.
(function () {
  'use strict';
  function draw() {
    var traffic = document.getElementById('chart-traffic');
    var latency = document.getElementById('chart-latency');
    if (!traffic || typeof window.Chart === 'undefined') return;
    var data;
    try {
      data = JSON.parse(traffic.getAttribute('data-chart') || '{}');
    } catch {
      return;
    }
    var common = { responsive: true, maintainAspectRatio: false, animation: false, interaction: { mode: 'index', intersect: false } };
    window.gatehouseCharts = {
      traffic: new window.Chart(traffic, {
        type: 'bar',
        data: {
          labels: data.labels,
          datasets: [
            { label: 'Successes', data: data.successes, backgroundColor: '#198754', stack: 'a' },
            { label: 'Errors', data: data.errors, backgroundColor: '#dc3545', stack: 'a' },
            { label: 'Requests', data: data.hits, type: 'line', borderColor: '#0d6efd', pointRadius: 0 }
          ]
        },
        options: Object.assign({}, common, { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } })
      }),
      latency: latency && new window.Chart(latency, {
        type: 'line',
        data: { labels: data.labels, datasets: [{ label: 'p95 (ms)', data: data.p95, borderColor: '#6f42c1', spanGaps: true, pointRadius: 2 }] },
        options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } })
      })
    };
    document.documentElement.setAttribute('data-charts-ready', 'true');
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', draw);
  else draw();
})();
