// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // A form sent back with errors: move focus to their summary, so a screen reader reads it.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
  // A vote form is sent once: a second tap while the first is on its way does nothing.
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    });
  });
  // Live results: the counts change in place as votes are counted (Server-Sent Events).
  var table = document.querySelector("table[data-live]");
  if (!table || !window.EventSource) return;
  var numbers = new Intl.NumberFormat(table.dataset.locale);
  var hidden = document.getElementById("counts-hidden");
  var source = new EventSource(table.dataset.live);
  source.addEventListener("results", function (message) {
    var results = JSON.parse(message.data);
    if (hidden) hidden.hidden = results.counts_public;
    var body = table.tBodies[0];
    var rows = {};
    Array.prototype.forEach.call(body.rows, function (row) { rows[row.dataset.entry] = row; });
    var lines = results.nominees.slice();
    if (results.counts_public) lines.sort(function (a, b) { return (b.votes || 0) - (a.votes || 0); });
    lines.forEach(function (line) {
      var row = rows[line.nominee.entry_id];
      if (!row) return;
      row.cells[1].textContent = line.votes === null ? "\u2014" : numbers.format(line.votes);
      body.appendChild(row);
    });
    table.dataset.updated = String(Date.now());
  });
})();
