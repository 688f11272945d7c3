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
        var page = parseInt(table.getAttribute("data-page") || "0", 10);
        keyed.forEach(function (k, position) {
          table.appendChild(k.group);
          if (page) { k.group.classList.toggle("later", position >= page); }
        });
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
      // While filtering, every match shows, not only those on the first page.
      table.classList.toggle("paged", !words.length && table.getAttribute("data-paged") === "1");
      Array.prototype.forEach.call(table.tBodies, function (group) {
        var text = group.textContent.toLowerCase();
        group.hidden = !words.every(function (w) { return text.indexOf(w) !== -1; });
        if (!group.hidden) { shown += 1; }
      });
      if (count) { count.textContent = words.length ? shown + " of " + table.tBodies.length + " shown" : ""; }
    });
  });
  function showAll(table) {
    table.setAttribute("data-paged", "0");
    table.classList.remove("paged");
    var more = document.getElementById(table.id.replace(/^inv-/, "more-"));
    if (more) { more.hidden = true; }
  }
  document.querySelectorAll("button.show-all").forEach(function (button) {
    button.addEventListener("click", function () {
      showAll(document.getElementById(button.getAttribute("data-table")));
    });
  });
  // A link to a touchpoint past the first page (from a finding, the map, a leak)
  // shows the whole inventory, then goes there.
  function reveal() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    var table = target && target.closest && target.closest("table.paged");
    if (table && target.classList.contains("later")) {
      showAll(table);
      target.scrollIntoView();
    }
  }
  window.addEventListener("hashchange", reveal);
  reveal();
})();
