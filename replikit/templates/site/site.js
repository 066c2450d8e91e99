// Filters and sorting for the portfolio's cards. Without JavaScript every card shows, in
// the order of last activity, and the filter form stays hidden.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var list = document.getElementById("cards");
  if (!form || !list) { return; }
  var field = document.getElementById("f-field");
  var verdict = document.getElementById("f-verdict");
  var attention = document.getElementById("f-attention");
  var sort = document.getElementById("f-sort");
  var shown = document.getElementById("shown");
  var cards = Array.prototype.slice.call(list.querySelectorAll("li.card"));

  function visible(card) {
    if (field.value && card.dataset.field !== field.value) { return false; }
    if (verdict.value && card.dataset.verdicts.split(" ").indexOf(verdict.value) < 0) {
      return false;
    }
    return !(attention.getAttribute("aria-pressed") === "true"
             && card.dataset.attention !== "1");
  }

  function order(a, b) {
    if (sort.value === "name") { return a.dataset.study.localeCompare(b.dataset.study); }
    var byDate = (b.dataset.activity || "").localeCompare(a.dataset.activity || "");
    return byDate || a.dataset.study.localeCompare(b.dataset.study);
  }

  function apply() {
    var count = 0;
    cards.slice().sort(order).forEach(function (card) {
      var show = visible(card);
      card.hidden = !show;
      if (show) { count += 1; }
      list.appendChild(card);
    });
    shown.textContent = count + " of " + cards.length + " studies shown";
  }

  attention.addEventListener("click", function () {
    var on = attention.getAttribute("aria-pressed") !== "true";
    attention.setAttribute("aria-pressed", on ? "true" : "false");
    apply();
  });
  [field, verdict, sort].forEach(function (control) {
    control.addEventListener("change", apply);
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.hidden = false;
  apply();
}());
