// On a wide screen the filters start open; on a phone they stay folded under the results' heading.
// A file rather than an inline script, so the Content-Security-Policy needs no 'unsafe-inline' for scripts.
if (window.matchMedia("(min-width: 801px)").matches) {
  var facets = document.querySelector(".facets");
  if (facets) facets.open = true;
}
