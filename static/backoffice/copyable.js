// Selects the whole of a read-only field (a tracking link, a snippet, a new token's secret)
// when it gets the focus, so that it is copied whole. In a file, not in onfocus attributes,
// so that the Content-Security-Policy can forbid inline scripts.
document.addEventListener("focusin", (event) => {
  if (event.target instanceof HTMLElement && event.target.classList.contains("copyable")) {
    event.target.select();
  }
});
