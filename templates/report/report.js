// Sorting and filtering for the inventory. The page reads fully without it: every
// touchpoint is a <tbody> (its attributes, then a row of details), so sorting and
// filtering move and hide whole touchpoints.
(function () {
  "use strict";
  function cellValue(group, index) {
    var cell = group.rows[0].cells[index];
    var text = cell ? cell.textContent.trim() : "";
    var n = parseFloat(text.replace(/,/g, "").replace("\u2212", "-"));
    return { text: text.toLowerCase(), num: isNaN(n) || !/^[-+\u2212]?[\d.,]+$/.test(text) ? null : n };
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headers = table.tHead.rows[0].cells;
    var original = Array.prototype.slice.call(table.tBodies);
    Array.prototype.forEach.call(headers, function (th, index) {
      th.tabIndex = 0;
      th.title = "Sort by " + th.textContent.trim();
      function sort() {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(headers, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var keyed = original.map(function (group, i) { return { group: group, i: i, v: cellValue(group, index) }; });
        keyed.sort(function (a, b) {
          var x = a.v, y = b.v;
          var order;
          // blanks always last, numbers before words, then ties in file order
          if (x.text === "" || y.text === "") { return (x.text === "") - (y.text === ""); }
          if (x.num !== null && y.num !== null) { order = x.num - y.num; }
          else if (x.num !== null) { order = -1; }
          else if (y.num !== null) { order = 1; }
          else { order = x.text < y.text ? -1 : x.text > y.text ? 1 : 0; }
          if (order === 0) { return a.i - b.i; }
          return ascending ? order : -order;
        });
        keyed.forEach(function (k) { table.appendChild(k.group); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
      });
    });
  });
  document.querySelectorAll(".map-frame").forEach(function (frame) {
    frame.addEventListener("click", function (e) {
      if (e.target.closest && e.target.closest("a")) { return; }
      frame.classList.toggle("zoomed");
    });
  });
  document.querySelectorAll("input.filter").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    var count = document.getElementById(input.getAttribute("data-count"));
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      Array.prototype.forEach.call(table.tBodies, function (group) {
        var text = group.textContent.toLowerCase();
        group.hidden = !words.every(function (w) { return text.indexOf(w) !== -1; });
        if (!group.hidden) { shown += 1; }
      });
      if (count) { count.textContent = words.length ? shown + " of " + table.tBodies.length + " shown" : ""; }
    });
  });
})();
