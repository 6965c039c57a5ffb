// Front page filters and search: client-side, no network. Allowed by its hash in the
// page's Content Security Policy; every other script is refused.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var table = document.getElementById("machines");
  if (!form || !table) { return; }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var shown = document.getElementById("shown");
  var none = document.getElementById("none");
  var keys = ["arch", "firmware", "kind", "status"];
  function apply() {
    var terms = form.elements.q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var n = 0;
    rows.forEach(function (tr) {
      var ok = keys.every(function (k) {
        var want = form.elements[k].value;
        return !want || tr.getAttribute("data-" + k) === want;
      });
      var text = tr.getAttribute("data-search") || "";
      ok = ok && terms.every(function (t) { return text.indexOf(t) >= 0; });
      tr.hidden = !ok;
      if (ok) { n++; }
    });
    shown.textContent = n + " of " + rows.length + " machines shown";
    none.hidden = n > 0;
  }
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  form.hidden = false;
  apply();
})();
