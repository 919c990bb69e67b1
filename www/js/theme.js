// theme.js - applies the saved light/dark choice before the page is drawn (a classic script,
// loaded synchronously in <head>: no flash of the other theme). A file, not an inline script,
// so that the Content-Security-Policy allows scripts from the server's own files only.
try {
  var t = localStorage.getItem('polsnap.theme');
  if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t;
} catch (e) {}
