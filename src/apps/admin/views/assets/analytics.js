// Analytics charts (Chart.js served locally). The data comes from the page's
// data-chart attribute (JSON, HTML-escaped by the template and decoded by the browser).
(function () {
  'use strict';
  var root = document.getElementById('analytics-charts');
  if (!root || typeof Chart === 'undefined') return;
  var data = JSON.parse(root.getAttribute('data-chart') || '{}');
  var resolution = root.getAttribute('data-resolution');
  var labels = (data.labels || []).map(function (t) {
    var d = new Date(t);
    return resolution === 'day' ? d.toISOString().slice(0, 10) : d.toISOString().slice(5, 16).replace('T', ' ');
  });
  var common = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: 'index', intersect: false },
  };
  new Chart(document.getElementById('chart-hits'), {
    type: 'line',
    data: {
      labels: labels,
      datasets: [
        {
          label: 'Requests',
          data: data.hits,
          borderColor: '#0d6efd',
          backgroundColor: 'rgba(13,110,253,.15)',
          fill: true,
          tension: 0.2,
        },
        {
          label: 'Errors',
          data: data.errors,
          borderColor: '#dc3545',
          backgroundColor: 'rgba(220,53,69,.15)',
          fill: true,
          tension: 0.2,
        },
      ],
    },
    options: common,
  });
  new Chart(document.getElementById('chart-latency'), {
    type: 'line',
    data: {
      labels: labels,
      datasets: [
        { label: 'Average', data: data.latency_avg, borderColor: '#198754', spanGaps: true },
        { label: 'p95', data: data.latency_p95, borderColor: '#fd7e14', spanGaps: true },
      ],
    },
    options: common,
  });
  var groups = document.getElementById('chart-groups');
  if (groups && data.groups && data.groups.length) {
    var palette = ['#0d6efd', '#6610f2', '#20c997', '#fd7e14', '#d63384'];
    new Chart(groups, {
      type: 'bar',
      data: {
        labels: labels,
        datasets: data.groups.map(function (g, i) {
          return { label: g.label, data: g.points, backgroundColor: palette[i % palette.length] };
        }),
      },
      options: Object.assign({}, common, { scales: { x: { stacked: true }, y: { stacked: true } } }),
    });
  }
})();
