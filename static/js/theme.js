// Sets the theme before the first paint so the page never flashes the wrong
// colours. Load in <head> without defer. The choice lives in
// localStorage.theme (light | dark | system); without one the attribute the
// server rendered on <html> stays, and "system" is the default.
(function () {
  var root = document.documentElement;
  var theme = null;
  try {
    theme = window.localStorage.getItem("theme");
  } catch (e) {
    // Storage can be blocked (private mode, policies): keep the default.
  }
  // A logged-in page carries the theme saved on the account: it wins over this device's.
  if (root.hasAttribute("data-theme-saved")) {
    theme = null;
  }
  if (theme === "light" || theme === "dark" || theme === "system") {
    root.setAttribute("data-theme", theme);
  } else if (!root.getAttribute("data-theme")) {
    root.setAttribute("data-theme", "system");
  }
})();
