// Applies the saved theme before the first paint so a dark-theme user never sees a white flash.
// A separate file rather than an inline script: the server's Content-Security-Policy allows only 'self' scripts.
(function () {
    try {
        var saved = localStorage.getItem("metahog.theme");
        var dark = saved ? saved === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
        document.documentElement.dataset.theme = dark ? "dark" : "light";
    } catch (e) {
        document.documentElement.dataset.theme = "light";
    }
})();
