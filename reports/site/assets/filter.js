// Filters and search of a table (the front page's machines, the Devices view): client-side,
// no network. The form names its table (data-table) and what a row is (data-noun); each
// select filters on the rows' data-<name> attribute, a space-separated list of values.
// Allowed by its hash in the page's Content Security Policy; every other script is refused.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var table = form && document.getElementById(form.getAttribute("data-table"));
  if (!form || !table) { return; }
  var noun = form.getAttribute("data-noun") || "rows";
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var shown = document.getElementById("shown");
  var none = document.getElementById("none");
  var keys = Array.prototype.map.call(form.querySelectorAll("select"), function (s) { return s.name; });
  function apply() {
    var terms = form.elements.q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var n = 0;
    rows.forEach(function (tr) {
      var ok = keys.every(function (k) {
        var want = form.elements[k].value;
        return !want || (" " + (tr.getAttribute("data-" + k) || "") + " ").indexOf(" " + want + " ") >= 0;
      });
      var text = tr.getAttribute("data-search") || "";
      ok = ok && terms.every(function (t) { return text.indexOf(t) >= 0; });
      tr.hidden = !ok;
      if (ok) { n++; }
    });
    shown.textContent = n + " of " + rows.length + " " + noun + " shown";
    none.hidden = n > 0;
  }
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  form.hidden = false;
  apply();
})();
