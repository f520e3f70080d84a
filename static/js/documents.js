// Invoices, credit notes and statements: a Print button opens the browser's print dialog (no inline script).
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-print]") : null;
  if (button) {
    event.preventDefault();
    window.print();
  }
});
