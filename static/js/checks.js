// Settling checks: tip chips, the amount of the chosen part. Forms work without it.
(function () {
  "use strict";

  function cents(text) {
    var value = parseFloat(String(text || "").replace(",", "."));
    return isNaN(value) ? 0 : Math.round(value * 100);
  }

  function euros(amount) {
    return (amount / 100).toFixed(2);
  }

  document.addEventListener("click", function (event) {
    var chip = event.target.closest("[data-tip-percent]");
    if (!chip) return;
    var form = chip.closest("form");
    var amount = cents(form.querySelector("[data-amount]").value);
    var percent = parseInt(chip.getAttribute("data-tip-percent"), 10);
    // Half-up, as the receipt rounds it.
    form.querySelector("[data-tip]").value = euros(Math.floor((amount * percent + 50) / 100));
    form.querySelectorAll("[data-tip-percent]").forEach(function (other) { other.classList.toggle("active", other === chip); });
  });

  document.addEventListener("change", function (event) {
    var radio = event.target.closest("input[name=portion_id][data-remaining]");
    if (!radio) return;
    var input = document.querySelector("#pay-form [data-amount]");
    if (input) input.value = euros(parseInt(radio.getAttribute("data-remaining"), 10));
  });
})();
